"""The passive reply XML WeChat expects for a text answer."""

from __future__ import annotations

from bot.channels.wechat.parse import Message

SUCCESS = "success"  # WeChat's "nothing to say now"; it then neither retries nor complains


def cdata(text: str) -> str:
    # "]]>" would close the section early; split it across two sections instead.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(msg: Message, content: str, now: int) -> str:
    return (
        f"<xml><ToUserName>{cdata(msg.from_user)}</ToUserName>"
        f"<FromUserName>{cdata(msg.to_user)}</FromUserName>"
        f"<CreateTime>{now}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


__all__ = ["SUCCESS", "cdata", "text_reply"]
