"""The logs of `jifen-bot serve` through a conversation that gives an openid and a salary
figure: one JSON object a line, a request id on each request's lines, and neither the openid
nor the figure anywhere, at debug level, access log included."""

from __future__ import annotations

import json
from pathlib import Path

from auxil.wechat_wire import TOKEN
from scale.cluster import Cluster, Conn

OPENID = "oQ3x9-AbCdEfGhIjKlMnOpQrStUv"
SALARY = "23456"
TALK = ("一建", "1", "1", "1", f"基数{SALARY}")


async def test_no_openid_and_no_salary_in_the_logs(tmp_path: Path) -> None:
    node = Cluster(
        {
            "JIFEN_STORE": f"sqlite:///{tmp_path}/bot.sqlite3",
            "JIFEN_WECHAT_TOKEN": TOKEN,
            "JIFEN_LOG_LEVEL": "debug",
        },
        tmp_path,
        workers=1,
    )
    node.start()
    try:
        conn = await Conn(node.port).open()
        for n, text in enumerate(TALK):
            got = await conn.send(OPENID, text, 500 + n)
            assert got.content
        assert "100 分" in got.content  # the figure was understood and used
        await conn.send(OPENID, TALK[-1], 500 + len(TALK) - 1)  # a retry
        status, _, _ = await conn.request("POST", f"/wechat?signature=bad&openid={OPENID}")
        assert status == 400
    finally:
        node.stop()

    text = node.log()
    assert OPENID not in text
    assert SALARY not in text
    records = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert len(access) >= len(TALK) + 2
    assert all(r["rid"] != "-" for r in access)
    assert len({r["rid"] for r in access}) == len(access)  # one id per request
