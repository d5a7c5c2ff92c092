"""The failed-log-in limiter, on a clock the test moves by hand."""

from workbench_server.throttle import LoginThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make(**kw):
    clock = Clock()
    return LoginThrottle(max_failures=3, window_s=300, delay_s=30, max_delay_s=120, clock=clock, **kw), clock


def test_a_key_waits_after_too_many_failures_and_the_wait_grows():
    t, clock = make()
    for _ in range(2):
        t.failure("alice")
    assert t.retry_after("alice") == 0
    t.failure("alice")
    assert t.retry_after("alice") == 30
    clock.now += 10
    assert t.retry_after("alice") == 20
    assert t.retry_after("bob") == 0  # other keys are not affected
    clock.now += 20
    assert t.retry_after("alice") == 0
    t.failure("alice")  # a fourth failure doubles the wait, and so on up to the cap
    assert t.retry_after("alice") == 60
    t.failure("alice")
    t.failure("alice")
    assert t.retry_after("alice") == 120


def test_failures_expire_after_the_window_and_success_forgets_them():
    t, clock = make()
    for _ in range(3):
        t.failure("alice")
    clock.now += 301
    assert t.retry_after("alice") == 0
    for _ in range(3):
        t.failure("bob")
    t.success("bob")
    assert t.retry_after("bob") == 0


def test_several_keys_wait_for_the_longest():
    t, clock = make()
    for _ in range(3):
        t.failure("user:alice", "address:10.0.0.1")
    clock.now += 5
    t.failure("address:10.0.0.1")
    assert t.retry_after("user:alice", "address:10.0.0.1") == 60
    assert t.retry_after("user:bob", "address:10.0.0.2") == 0


def test_memory_stays_bounded_under_address_spraying():
    t, clock = make(max_keys=100)
    for i in range(1000):
        clock.now += 1
        t.failure(f"address:{i}")
    assert len(t._failures) <= 100
    assert t.retry_after("address:999") == 0  # one failure each: nobody locked
