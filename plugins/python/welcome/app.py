"""`welcome`: greets first-time contributors, like Prow's `welcome` plugin.

On a pull request opened by someone GitHub calls a first-time contributor
(author association `FIRST_TIME_CONTRIBUTOR`, `FIRST_TIMER` or `NONE`), it
sets the step's sticky comment to a welcome message. The message is a
template in the step's `with: { message: ... }`; `{author}`, `{repository}`
and `{number}` are replaced.

Built into a component by `plugins/python/build.sh` (componentize-py), which
generates the `wit_world` bindings from `wit/plugin.wit`.
"""

import json
import re

import wit_world
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.types import (
    Action,
    Action_Comment,
    Event,
    EventKind,
    Invocation,
    LogLevel,
    Manifest,
    Permission,
    PluginError_InvalidConfig,
)

VERSION = "0.1.0"

DEFAULT_MESSAGE = (
    "Welcome @{author}! It looks like this is your first pull request to "
    "{repository} 🎉 Thank you, a maintainer will review it soon."
)

# The placeholders a message may use.
FIELDS = ("author", "repository", "number")

# GitHub's associations for someone who has not contributed here before.
NEWCOMERS = {"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"}

CONFIG_SCHEMA = json.dumps(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "message": {
                "type": "string",
                "description": "Markdown; {author}, {repository} and {number} are replaced.",
                "default": DEFAULT_MESSAGE,
            }
        },
    },
    ensure_ascii=False,
)

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ConfigError(Exception):
    """The step's `with:` is wrong; the message says how."""


def parse_config(text: str) -> str:
    """The message template of a `with:` JSON object."""
    try:
        config = json.loads(text or "{}")
    except json.JSONDecodeError as e:
        raise ConfigError(f"`with:` is not JSON: {e}") from None
    if not isinstance(config, dict):
        raise ConfigError("`with:` must be a mapping")
    unknown = sorted(set(config) - {"message"})
    if unknown:
        raise ConfigError(f"unknown key `{unknown[0]}` in `with:` (expected `message`)")
    message = config.get("message", DEFAULT_MESSAGE)
    if not isinstance(message, str):
        raise ConfigError(f"`message` must be a string, not {json.dumps(message)}")
    for name in PLACEHOLDER.findall(message):
        if name not in FIELDS:
            known = ", ".join(f"{{{f}}}" for f in FIELDS)
            raise ConfigError(f"`message` uses unknown placeholder {{{name}}} (known: {known})")
    return message


def render(template: str, event: Event) -> str:
    values = {
        "author": event.author or "",
        "repository": event.repository,
        "number": "" if event.number is None else str(event.number),
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def is_newcomers_pull_request(event: Event) -> bool:
    return (
        event.kind == EventKind.PULL_REQUEST
        and event.action == "opened"
        and event.author is not None
        and event.author_association in NEWCOMERS
    )


class WitWorld(wit_world.WitWorld):
    def describe(self) -> Manifest:
        return Manifest(
            name="welcome",
            version=VERSION,
            description="welcomes first-time contributors with a comment on their pull request",
            events=[EventKind.PULL_REQUEST],
            commands=[],
            permissions=[Permission.COMMENT],
            config_schema=CONFIG_SCHEMA,
        )

    def run(self, invocation: Invocation) -> list[Action]:
        # The config is checked on every event, so a mistake shows up early.
        try:
            template = parse_config(invocation.config)
        except ConfigError as e:
            raise Err(PluginError_InvalidConfig(str(e)))
        event = invocation.event
        if not is_newcomers_pull_request(event):
            host.log(
                LogLevel.DEBUG,
                f"no welcome: {event.action} by {event.author_association or 'unknown association'}",
            )
            return []
        host.log(LogLevel.INFO, f"welcoming @{event.author} to {event.repository}")
        return [Action_Comment(render(template, event))]
