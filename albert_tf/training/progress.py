"""Progress of long loops: a live bar on a terminal, log lines everywhere.

The bar (tqdm: step, rate, ETA and the latest loss) is drawn only when
stderr is a terminal, so logs of batch jobs and CI hold just the periodic
lines the loops log themselves.
"""

import sys

from tqdm import tqdm


def format_seconds(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s"


class Progress:
    """A progress bar over `total` units starting at `initial`; silent when stderr is no terminal.

    Log through `write` while the bar is shown so that lines do not tear it.

    Example:
    >>> with Progress(total=600, initial=0, unit="step", description="train") as progress:  # doctest: +SKIP
    ...     progress.update(loss=5.21)
    """

    def __init__(self, total, initial=0, unit="step", description=None, enabled=None):
        # enabled=None: tqdm decides (shown on a terminal only).
        self.bar = tqdm(total=total, initial=initial, unit=unit, desc=description, file=sys.stderr,
                        disable=None if enabled is None else not enabled, dynamic_ncols=True, leave=False)

    def update(self, count=1, **postfix):
        if postfix:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in postfix.items()}, refresh=False)
        self.bar.update(count)

    def write(self, log, *args):
        """Calls `log(*args)` (say, `logging.info`) with the bar cleared and redrawn after it."""
        with tqdm.external_write_mode(file=sys.stderr):
            log(*args)

    def close(self):
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
