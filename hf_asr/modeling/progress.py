"""Progress bars for long audio: shown only when there is over `LONG_AUDIO_S` seconds of it, silent otherwise."""

from __future__ import annotations

from tqdm.auto import tqdm

LONG_AUDIO_S = 60.0  # a file over a minute gets a progress bar, and is chunked by the pipeline when not told


class AudioProgress:
    """A tqdm bar counting seconds of audio, created on the first `update` whose total is over `LONG_AUDIO_S`
    (never for less). `update(done_s, total_s)` moves it; it closes itself when done reaches the total."""

    def __init__(self, desc: str, leave: bool = True) -> None:
        self.desc, self.leave = desc, leave
        self.bar: tqdm | None = None

    def update(self, done_s: float, total_s: float) -> None:
        if self.bar is None:
            if total_s <= LONG_AUDIO_S:
                return
            self.bar = tqdm(total=round(total_s, 1), desc=self.desc, unit="s", leave=self.leave)
        self.bar.update(round(min(done_s, total_s), 1) - self.bar.n)
        if done_s >= total_s:
            self.bar.close()
