@echo off
rem ergo: workplace ergonomics reminders, started at login from the Windows
rem Startup folder. Written by "ergo service install" as ergo.cmd in
rem APPDATA\Microsoft\Windows\Start Menu\Programs\Startup; "ergo service
rem uninstall" deletes it. Saved with CRLF line ends.
rem Template: Python str.format fields, filled at install time:
rem   command  the Python that has ergo installed (pythonw.exe when it sits
rem            beside python.exe: it opens no console window at all), then
rem            "-m ergo run", then the config option and its path only when
rem            one was given; quoted for cmd, percent signs doubled.
rem start returns at once, so this window closes while ergo keeps running;
rem /min keeps the console of a plain python.exe out of the way.
chcp 65001 >nul
start "" /min {command}
