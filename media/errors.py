"""Errors raised by the media library.

Every error carries a stable machine ``code`` (upper snake case) that the
runners store on a failed stage and the API shows to clients::

    MediaError                      MEDIA_ERROR
    ├── InputError                  (bad input the user can fix)
    │   ├── EmptyFileError          EMPTY_FILE
    │   ├── NotMediaError           NOT_MEDIA
    │   ├── CorruptMediaError       CORRUPT_MEDIA
    │   ├── UnsupportedMediaError   UNSUPPORTED_MEDIA
    │   ├── NoVideoStreamError      NO_VIDEO_STREAM
    │   ├── NoAudioStreamError      NO_AUDIO_STREAM
    │   ├── ZeroDurationError       ZERO_DURATION
    │   ├── DimensionsError         BAD_DIMENSIONS
    │   ├── ScriptError             SCRIPT_INVALID (and the codes below)
    │   │   ├── EmptyScriptError    SCRIPT_EMPTY
    │   │   ├── ScriptTooLargeError SCRIPT_TOO_LARGE
    │   │   ├── BinaryScriptError   SCRIPT_BINARY
    │   │   └── BeatTooLongError    BEAT_TOO_LONG
    │   └── EditListError           EDL_INVALID
    ├── DecodeError                 DECODE_FAILED
    ├── EncodeError                 ENCODE_FAILED
    ├── OutputError                 OUTPUT_FAILED (unwritable path, disk full)
    ├── ModelError                  MODEL_UNAVAILABLE
    └── CancelledError              CANCELLED

Usage::

    try: probe(path)
    except MediaError as ex: print(ex.code, ex)
"""

from __future__ import annotations


class MediaError(Exception):
    """Base of every error the media library raises on purpose."""

    code: str = "MEDIA_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class InputError(MediaError):
    code = "INVALID_INPUT"


class EmptyFileError(InputError):
    code = "EMPTY_FILE"


class NotMediaError(InputError):
    code = "NOT_MEDIA"


class CorruptMediaError(InputError):
    code = "CORRUPT_MEDIA"


class UnsupportedMediaError(InputError):
    code = "UNSUPPORTED_MEDIA"


class NoVideoStreamError(InputError):
    code = "NO_VIDEO_STREAM"


class NoAudioStreamError(InputError):
    code = "NO_AUDIO_STREAM"


class ZeroDurationError(InputError):
    code = "ZERO_DURATION"


class DimensionsError(InputError):
    code = "BAD_DIMENSIONS"


class ScriptError(InputError):
    code = "SCRIPT_INVALID"


class EmptyScriptError(ScriptError):
    code = "SCRIPT_EMPTY"


class ScriptTooLargeError(ScriptError):
    code = "SCRIPT_TOO_LARGE"


class BinaryScriptError(ScriptError):
    code = "SCRIPT_BINARY"


class BeatTooLongError(ScriptError):
    code = "BEAT_TOO_LONG"


class EditListError(InputError):
    code = "EDL_INVALID"


class DecodeError(MediaError):
    code = "DECODE_FAILED"


class EncodeError(MediaError):
    code = "ENCODE_FAILED"


class OutputError(MediaError):
    code = "OUTPUT_FAILED"


class ModelError(MediaError):
    code = "MODEL_UNAVAILABLE"


class CancelledError(MediaError):
    code = "CANCELLED"
