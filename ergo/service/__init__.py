"""Start ergo at login: one plan per platform (files and commands), then carrying it out.

- `files.py`: where the autostart files go and their text (systemd units, XDG autostart entries,
  a LaunchAgent, a Startup-folder .cmd), one quoting rule per format;
- `plan.py`: what an install or uninstall does, read off what is installed (pure apart from reading);
- `run.py`: carrying a plan out, and `service status`: the only part that changes or asks the system.
"""

from ergo.service.files import LABEL, ServiceError, render_desktop_entry, render_launchd_plist, render_systemd_unit, \
    render_windows_cmd, service_python, xdg_files
from ergo.service.plan import ServicePlan, current_platform, plan_install, plan_install_xdg, plan_uninstall, \
    plan_uninstall_xdg
from ergo.service.run import apply, service_status

__all__ = ["LABEL", "ServiceError", "ServicePlan", "apply", "current_platform", "plan_install", "plan_install_xdg",
           "plan_uninstall", "plan_uninstall_xdg", "render_desktop_entry", "render_launchd_plist", "render_systemd_unit", "render_windows_cmd",
           "service_python", "service_status", "xdg_files"]
