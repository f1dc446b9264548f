"""jifen-bot: certificates → Shanghai residence-permit points, in chat."""

__version__ = "0.1.0"
