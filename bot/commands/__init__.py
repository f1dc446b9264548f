"""Sub-commands of `jifen-bot`, one module each (see bot.cli.COMMAND_MODULES)."""
