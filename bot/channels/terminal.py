"""The terminal channel: `jifen-bot chat`, interactive on a TTY, line by line from a pipe.

Interactive: a greeting (or where the last conversation stopped), a coloured prompt, choices
as numbered lines; Ctrl-D, Ctrl-C or 退出 leaves. From a pipe: each input line is one user
message and each turn's replies are printed, separated by a blank line, so that
`printf '一建\\n是\\n' | jifen-bot chat` is a whole scripted conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable
from typing import IO

from bot.channels.render import render_replies
from bot.dialog.replies import Reply
from bot.dialog.slots import key
from bot.service import Service

CHANNEL = "terminal"
TEXT_KEYS = {"terminal.bot": (), "terminal.you": (), "terminal.hint": (), "terminal.bye": ()}

_RESET, _BOLD, _DIM, _CYAN, _YELLOW, _GREEN = (
    "\033[0m", "\033[1m", "\033[2m", "\033[36m", "\033[33m", "\033[32m",
)  # fmt: skip


def use_colour(stream: IO[str], environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Colours only on a terminal, never with NO_COLOR set (no-color.org) or TERM=dumb."""
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Terminal:
    """Parameters: the `service`, the terminal `user` id (the same id continues the same
    session), the streams, and whether to colour the output."""

    def __init__(
        self,
        service: Service,
        user: str,
        stdin: IO[str],
        stdout: IO[str],
        colour: bool = False,
    ) -> None:
        self.service = service
        self.user = user
        self.stdin = stdin
        self.stdout = stdout
        self.colour = colour
        texts = service.engine.texts
        texts.require(TEXT_KEYS)
        self._t = texts
        self._exit = service.engine.cfg.lexicon.exit_words

    def _paint(self, text: str, *codes: str, prompt: bool = False) -> str:
        if not self.colour:
            return text
        start, reset = "".join(codes), _RESET
        if prompt:  # readline must not count escape codes as width, or editing goes astray
            start, reset = f"\001{start}\002", f"\001{reset}\002"
        return f"{start}{text}{reset}"

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _is_exit(self, line: str) -> bool:
        return key(line) in self._exit

    def run_script(self, runner: asyncio.Runner) -> int:
        """Read messages line by line until the end of input."""
        first = True
        for raw in self.stdin:
            line = raw.rstrip("\r\n")
            if self._is_exit(line):
                break
            replies = runner.run(self.service.handle(CHANNEL, self.user, line))
            self._write(("" if first else "\n") + render_replies(replies) + "\n")
            first = False
        return 0

    def run_interactive(self, runner: asyncio.Runner) -> int:
        with contextlib.suppress(ImportError):  # not on every platform
            import readline  # noqa: F401 - line editing and history for input()
        self._write(self._paint(self._t("terminal.hint"), _DIM) + "\n\n")
        self._show(runner.run(self.service.greet(CHANNEL, self.user)))
        prompt = self._paint(self._t("terminal.you") + "> ", _BOLD, _GREEN, prompt=True)
        while True:
            try:
                line = input(prompt)
            except (EOFError, KeyboardInterrupt):
                break
            if self._is_exit(line):
                break
            self._show(runner.run(self.service.handle(CHANNEL, self.user, line)))
        self._write("\n" + self._paint(self._t("terminal.bye"), _DIM) + "\n")
        return 0

    def _show(self, replies: Iterable[Reply]) -> None:
        name = self._paint(self._t("terminal.bot"), _BOLD, _CYAN)
        out: list[str] = []
        for reply in replies:
            out.append(f"{name}  {reply.text}")
            out.extend(
                f"   {self._paint(f'{n}.', _BOLD, _YELLOW)} {c.label}"
                for n, c in enumerate(reply.choices, 1)
            )
        self._write("\n".join(out) + "\n\n")


__all__ = ["CHANNEL", "TEXT_KEYS", "Terminal", "use_colour"]
