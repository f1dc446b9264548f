"""The rules layer: pure data loading, normalisation, matching and evaluation.

Nothing here imports the dialog engine, the store, a channel or the server.
"""
