"""Providers: anyone who turns a job request into a video, behind one small interface (`base.VideoProvider`).

`base` is the seam; `openai_compat` any OpenAI Videos API server; `catalog` the native vendors' declared table;
`vendor_base` what each vendor module (`fal`, `replicate`, `runway`, `google`) builds on; `registry` the one door
that builds a provider of any kind, plug-ins included. Imports `dailies.client`, `jobs`, `errors`, `pricing`;
a vendor's SDK only in its own module, loaded when a provider of that kind is built.
"""

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
