"""Progress for long work, on stderr: a rich bar on a terminal, plain lines otherwise.

Library code that reports progress itself (the model engines) uses this module; the CLI uses
the same console for its messages. Nothing here imports the CLI.
"""

from __future__ import annotations

from rich.console import Console

console = Console(stderr=True)


def progress(disable: bool = False):
    """Progress for long jobs (records processed, rate, elapsed) on stderr.

    On a terminal this is a rich progress bar; when stderr is a file or a pipe (batch jobs, CI,
    ``nohup``) the same calls print one plain line every ``PLAIN_EVERY`` seconds and one at the end,
    so a log shows that a long run is alive and how fast it goes.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    if not disable and not console.is_terminal:
        return PlainProgress()
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        disable=disable,
        transient=False,
    )


PLAIN_EVERY = 10.0


class PlainProgress:
    """The subset of ``rich.progress.Progress`` the commands use, printed as plain lines."""

    def __init__(self, every: float = PLAIN_EVERY):
        import time

        self._clock = time.monotonic
        self.every = every
        self.tasks: dict[int, dict] = {}
        self._last = self._clock()
        self._t0 = self._last

    def add_task(self, description: str, total=None, **fields) -> int:
        tid = len(self.tasks)
        self.tasks[tid] = {"description": description, "completed": 0, **fields}
        return tid

    def update(self, task_id: int, *, advance: float = 0, **fields) -> None:
        t = self.tasks[task_id]
        t["completed"] += advance
        t.update(fields)
        if self._clock() - self._last >= self.every:
            self._print(t)

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def _print(self, t: dict) -> None:
        self._last = self._clock()
        rate = t.get("rate") or ""
        console.print(
            f"{t['description']}: {int(t['completed'])} records, {self._last - self._t0:.0f} s"
            + (f", {rate}" if rate else ""),
            highlight=False,
            markup=False,
        )

    def start(self) -> None:
        return None

    def stop(self) -> None:
        for t in self.tasks.values():
            self._print(t)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:  # an error prints its own line, not a progress line before it
            self.stop()
