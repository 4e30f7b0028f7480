"""Providers: anyone who turns a job request into a video, behind one small interface."""

from dailies.providers.base import Capabilities, Health, ModelInfo, ModerationVerdict, RemoteVideo, VideoProvider
from dailies.providers.openai_compat import OpenAICompatibleConfig, OpenAICompatibleProvider

__all__ = [
    "Capabilities",
    "Health",
    "ModelInfo",
    "ModerationVerdict",
    "OpenAICompatibleConfig",
    "OpenAICompatibleProvider",
    "RemoteVideo",
    "VideoProvider",
]
