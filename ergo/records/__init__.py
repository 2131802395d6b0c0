"""What ergo remembers and what it makes of it.

- `store.py`: state and history in SQLite (the only module here that does I/O on the database);
- `diary.py`: `ergo history` as a diary; `stats.py`: the numbers behind `ergo stats`;
- `report.py`: the self-contained HTML page of `ergo report`.
"""
