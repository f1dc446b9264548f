"""Channel adapters: thin translations between a wire format and bot.service.Service."""
