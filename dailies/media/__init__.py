"""Files on disk and what is in them: the media folder (`library`) and reading video (`video`).

`library` knows where each take's files live and whether they are whole; `video` is the one place
that opens a video to read it. Both import only the core's leaf modules (`errors`, `jobs`, `files`),
never the store, the tracker or a page; PyAV, NumPy and Pillow load on first use.
"""

from dailies.media.library import (
    VARIANT_EXT,
    MediaLibrary,
    UsageCounter,
    check_id,
    sha256_file,
    sniff_type,
)
from dailies.media.video import (
    CodecParams,
    NoVideoStream,
    VideoInfo,
    codec_params,
    first_frame,
    frame_image,
    frame_images,
    last_frame,
    make_thumbnail,
    probe_video,
    sound_frames,
    video_frames,
)

__all__ = [
    "VARIANT_EXT",
    "CodecParams",
    "MediaLibrary",
    "NoVideoStream",
    "UsageCounter",
    "VideoInfo",
    "check_id",
    "codec_params",
    "first_frame",
    "frame_image",
    "frame_images",
    "last_frame",
    "make_thumbnail",
    "probe_video",
    "sha256_file",
    "sniff_type",
    "sound_frames",
    "video_frames",
]
