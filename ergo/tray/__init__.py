"""`ergo tray`: a tray icon in its own process, following the daemon's status stream.

model.py is pure (status -> icon, tooltip, menu); actions.py carries out a menu
choice; sni.py (StatusNotifierItem over D-Bus) and xembed.py (the X11 system
tray) are the two front ends; select.py picks one and says why; app.py wires them.
"""
