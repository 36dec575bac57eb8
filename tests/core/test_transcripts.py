"""parse_transcript: four formats in, normalised utterances out, TranscriptError with a line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from podsearch.errors import TranscriptError
from podsearch.models import Utterance
from podsearch.transcripts import parse_transcript


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def podcasting20(*segments: dict[str, object]) -> str:
    return json.dumps({"version": "1.0.0", "segments": list(segments)}, indent=1)


def test_podcasting20_keeps_speakers_times_and_normalises_whitespace(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ep.json",
        podcasting20(
            {"speaker": "Adam  Stacoviak", "startTime": 0, "endTime": 5.5, "body": " Hi\n there "},
            {"startTime": 5.5, "endTime": 8.25, "body": "No speaker here."},
            {"speaker": "Jerod Santo", "startTime": 8.25, "endTime": 9, "body": "   "},
        ),
    )
    assert parse_transcript(path) == [
        Utterance(0.0, 5.5, "Hi there", "Adam Stacoviak"),
        Utterance(5.5, 8.25, "No speaker here.", None),
    ]


def test_whisper_json_has_no_speakers_unless_whisperx_adds_them(tmp_path: Path) -> None:
    doc = {
        "text": " Hello world. Bye.",
        "segments": [
            {"id": 0, "seek": 0, "start": 0.0, "end": 2.4, "text": " Hello world.", "tokens": []},
            {"id": 1, "start": 2.4, "end": 3.0, "text": " Bye.", "speaker": "SPEAKER_01"},
        ],
        "language": "en",
    }
    path = write(tmp_path, "whisper.json", json.dumps(doc))
    assert parse_transcript(path) == [
        Utterance(0.0, 2.4, "Hello world.", None),
        Utterance(2.4, 3.0, "Bye.", "SPEAKER_01"),
    ]


VTT = """\ufeffWEBVTT - a title
Kind: captions

NOTE written by hand,
over two lines

STYLE
::cue { color: red }

intro
00:00:01.000 --> 00:00:04.000 align:start position:10%
<v Jerod Santo>Welcome to <i>the</i> show,
everyone &amp; friends.</v>

00:04.000 --> 00:06.000
<v.loud Adam Stacoviak>Thanks!

3
01:00:00.500 --> 01:00:01.000
<c.yellow> </c>

00:00:06.000 --> 00:00:10.000
No voice tag at all.
"""


def test_webvtt_reads_voices_ids_notes_settings_and_short_times(tmp_path: Path) -> None:
    assert parse_transcript(write(tmp_path, "ep.vtt", VTT)) == [
        Utterance(1.0, 4.0, "Welcome to the show, everyone & friends.", "Jerod Santo"),
        Utterance(4.0, 6.0, "Thanks!", "Adam Stacoviak"),
        Utterance(6.0, 10.0, "No voice tag at all.", None),
    ]


def test_webvtt_accepts_windows_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, "ep.vtt", VTT.replace("\n", "\r\n").encode())
    assert len(parse_transcript(path)) == 3


def test_a_cue_with_two_voices_shares_its_time_by_words(tmp_path: Path) -> None:
    text = "WEBVTT\n\n00:00.000 --> 00:04.000\n<v A>one two three</v>\n<v B>four\n"
    assert parse_transcript(write(tmp_path, "ep.vtt", text)) == [
        Utterance(0.0, 3.0, "one two three", "A"),
        Utterance(3.0, 4.0, "four", "B"),
    ]


SRT = """1
00:00:00,000 --> 00:00:10,890
José Valim: I got the news,
and I was <i>there</i>...

2
00:00:10,890 --> 00:00:11,970
Adam Stacoviak: Oh, yeah.
Break:

3
00:00:12,000 --> 00:00:14,000
the answer: yes

4
00:00:14,000 --> 00:00:15,000
Version 2: out now

5
00:00:15,000 --> 00:00:16,000
One Two Three Four Five: too long for a name

6
00:00:16,000 --> 00:00:18,000
Ann Lee: Hi there.
Bob: Hello you.
"""


def test_srt_takes_the_speaker_from_a_leading_name(tmp_path: Path) -> None:
    assert parse_transcript(write(tmp_path, "ep.srt", SRT)) == [
        Utterance(0.0, 10.89, "I got the news, and I was there...", "José Valim"),
        Utterance(10.89, 11.97, "Oh, yeah.", "Adam Stacoviak"),
        Utterance(12.0, 14.0, "the answer: yes", None),
        Utterance(14.0, 15.0, "Version 2: out now", None),
        Utterance(15.0, 16.0, "One Two Three Four Five: too long for a name", None),
        Utterance(16.0, 17.0, "Hi there.", "Ann Lee"),
        Utterance(17.0, 18.0, "Hello you.", "Bob"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "speaker"),
    [
        ("ep.txt", "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ann>Hi\n", "Ann"),
        ("ep.txt", "1\n00:00:01,000 --> 00:00:02,000\nAnn: Hi\n", "Ann"),
        ("ep", podcasting20({"speaker": "Ann", "startTime": 1, "endTime": 2, "body": "Hi"}), "Ann"),
        ("ep.srt", "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ann>Hi\n", "Ann"),
    ],
)
def test_the_format_is_recognised_by_content_when_the_name_does_not_say(
    tmp_path: Path, name: str, content: str, speaker: str
) -> None:
    assert parse_transcript(write(tmp_path, name, content)) == [Utterance(1.0, 2.0, "Hi", speaker)]


P20_OK = {"speaker": "A", "startTime": 1, "endTime": 2, "body": "Hi"}


@pytest.mark.parametrize(
    ("name", "content", "line", "message"),
    [
        ("a.vtt", "WEBVTT\n\n1\n00:00:0x.000 --> 00:00:02.000\nHi\n", 4, "bad timestamp"),
        ("a.vtt", "WEBVTT\n\n00:01:61.000 --> 00:01:62.000\nHi\n", 3, "bad timestamp"),
        ("a.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nHi\n", 3, "before it starts"),
        ("a.vtt", "WEBVTT\n\n00:00:05.000 -> 00:00:06.000\nHi\n", 3, "expected 'start --> end'"),
        ("a.vtt", "\n\nHello\n", 3, "missing 'WEBVTT' header"),
        ("a.vtt", "WEBVTT\n00:01.000 --> 00:02.000\nHi\n", 2, "blank line expected"),
        (
            "a.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03 --> 4\nYo\n",
            6,
            "bad timestamp",
        ),
        ("a.srt", "1\n00:00:03,000 --> 00:00:02,000\nHi\n", 2, "before it starts"),
        ("a.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi\n\nstray text\n", 5, "expected"),
        ("a.json", '{\n"version": "1.0.0",\n"segments": [,]\n}', 3, "invalid JSON"),
        ("a.json", b'{"segments": []}\n\n\xff\xfe', 3, "not UTF-8"),
        ("a.vtt", "WEBVTT\n\nNOTE nothing but notes\n", None, "no utterances"),
        ("a.srt", "1\n00:00:01,000 --> 00:00:02,000\n<i> </i>\n", None, "no utterances"),
        ("a.json", podcasting20(), None, "no utterances"),
        ("a.srt", "  \n\n", None, "empty file"),
        ("a.txt", "just some notes\n", None, "unknown transcript format"),
        ("a.json", '{"segments": [{"foo": 1}]}', None, "unknown JSON transcript"),
        ("a.json", '{"version": "1.0.0", "segments": {}}', None, "'segments' list"),
        ("a.json", '{"version": "1.0.0", "segments": [3]}', None, "segments[0]: expected an"),
        ("a.json", podcasting20(P20_OK, {"startTime": 1, "body": "x"}), None, "'endTime'"),
        ("a.json", podcasting20({**P20_OK, "startTime": "1.5"}), None, "must be a number"),
        ("a.json", podcasting20({**P20_OK, "endTime": True}), None, "must be a number"),
        ("a.json", podcasting20({**P20_OK, "startTime": -1}), None, "negative start"),
        ("a.json", podcasting20({**P20_OK, "body": 7}), None, "must be a string"),
        (
            "a.json",
            '{"version": "1", "segments": [{"startTime": NaN, "endTime": 1, "body": "x"}]}',
            None,
            "finite",
        ),
        ("a.json", '{"text": "", "segments": [{"start": 0, "text": "x"}]}', None, "'end'"),
    ],
)
def test_malformed_input_raises_transcript_error_with_its_line(
    tmp_path: Path, name: str, content: str | bytes, line: int | None, message: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(path)
    assert caught.value.path == path
    assert caught.value.line == line
    assert message in caught.value.reason


def test_a_missing_file_is_a_transcript_error(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="cannot read file"):
        parse_transcript(tmp_path / "nope.vtt")


@pytest.mark.changelog
def test_every_changelog_transcript_parses(changelog: Path) -> None:
    files = sorted((changelog / "transcripts").iterdir())
    formats: Counter[str] = Counter()
    for path in files:
        utterances = parse_transcript(path)
        assert all(u.text and u.text == " ".join(u.text.split()) for u in utterances), path
        assert all(0 <= u.start <= u.end for u in utterances), path
        assert any(u.speaker for u in utterances), path
        formats[path.suffix] += 1
    assert len(files) == 299
    assert formats == {".json": 239, ".vtt": 30, ".srt": 30}
