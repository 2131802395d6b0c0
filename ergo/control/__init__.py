"""The control channel between the CLI (or a tray, a bar) and the running daemon.

- `protocol.py`: what both sides agree on (message size, timeouts); imports nothing.
- `client.py`: the light side `ergo status` and friends import (stdlib only).
- `stream.py`: the follower of the pushed status stream (`ergo status --follow`, the tray).
- `glance.py`: what a bar or tray icon shows for one status (pure).
- `server.py`: the daemon's side, a selector loop over a Unix socket.
- `pipe.py`: the same requests over a named pipe where there are no Unix sockets (Windows).

Imports point one way: client, stream and glance never import the server side.
"""
