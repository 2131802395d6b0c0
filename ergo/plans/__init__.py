"""Plans: opt-in, time-boxed routines from the documents (`ergo plan start acute-back`).

- the *.toml files beside this one are the plans (data, like the tip catalog);
- `catalog`: reads them into plain dataclasses;
- `timing`: the pure part, when each step falls due (plain data and a clock, like ergo.timing.policy);
- `running`: what is stored while a plan runs, and the one-line checks of start options.
"""
