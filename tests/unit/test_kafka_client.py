"""The Kafka client the processes run: its record checksums are native."""

from kafka.record import util


def test_record_checksums_use_the_native_crc32c():
    # Without the compiled crc32c, kafka-python checks every fetched batch in
    # pure Python: the largest single cost of a projector draining a backlog.
    assert util.crc32c_c is not None
    assert util.calc_crc32c(b"123456789") == 0xE3069283
