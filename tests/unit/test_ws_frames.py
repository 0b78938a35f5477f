from app.web.ws import text_frame


def test_text_frames_follow_rfc_6455_at_every_length():
    assert text_frame("hi") == b"\x81\x02hi"
    assert text_frame("x" * 200)[:4] == b"\x81\x7e\x00\xc8"  # 16-bit length
    assert text_frame("x" * 70_000)[:10] == b"\x81\x7f" + (70_000).to_bytes(8, "big")  # 64-bit length
