"""What both ends of the control channel agree on. Imports nothing: the light client path loads it."""

MAX_MESSAGE = 64 * 1024  # bytes in one request; an answer may be up to 16 times this
CLIENT_TIMEOUT = 5.0  # seconds a connected client may stay silent before the server drops it
