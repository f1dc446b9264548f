"""The WeChat official-account (公众号) channel: passive replies, safe mode, the 4-second budget."""
