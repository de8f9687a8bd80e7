import AsyncIO
import Testing

@testable import AsyncIOHTTP

/// The pool's bookkeeping as stories: events in, actions out, no I/O.
struct ConnectionPoolStateTests {
    typealias Pool = ConnectionPoolState<String>
    let t0 = LoopInstant(nanoseconds: 0)

    @Test
    func firstRequestConnectsAndTheConnectionIsReusedAfterRelease() {
        var pool = Pool(limit: 10, limitPerHost: 0)
        #expect(pool.acquire("a", waiter: 1) == [.connect(waiter: 1)])
        // Connection 100 carried waiter 1's request and is released.
        #expect(pool.release(100, key: "a", reusable: true, now: t0) == [])
        #expect(pool.idleCount == 1)
        #expect(pool.acquire("a", waiter: 2) == [.handOver(waiter: 2, connection: 100)])
        #expect(pool.openCount == 1)
        #expect(pool.idleCount == 0)
    }

    @Test
    func theMostRecentlyUsedIdleConnectionIsHandedOutFirst() {
        var pool = Pool(limit: 0, limitPerHost: 0)
        _ = pool.acquire("a", waiter: 1)
        _ = pool.acquire("a", waiter: 2)
        _ = pool.release(100, key: "a", reusable: true, now: t0)
        _ = pool.release(200, key: "a", reusable: true, now: t0 + .seconds(1))
        #expect(pool.acquire("a", waiter: 3) == [.handOver(waiter: 3, connection: 200)])
    }

    @Test
    func perHostLimitQueuesAndAReleaseServesTheNextInLine() {
        var pool = Pool(limit: 0, limitPerHost: 2)
        #expect(pool.acquire("a", waiter: 1) == [.connect(waiter: 1)])
        #expect(pool.acquire("a", waiter: 2) == [.connect(waiter: 2)])
        #expect(pool.acquire("a", waiter: 3) == [])
        #expect(pool.acquire("b", waiter: 4) == [.connect(waiter: 4)])
        #expect(pool.waitingCount == 1)
        #expect(pool.release(100, key: "a", reusable: true, now: t0) == [.handOver(waiter: 3, connection: 100)])
        #expect(pool.openCount(for: "a") == 2)
    }

    @Test
    func aClosedConnectionFreesItsSlotForAWaiterToConnect() {
        var pool = Pool(limit: 1, limitPerHost: 0)
        _ = pool.acquire("a", waiter: 1)
        #expect(pool.acquire("a", waiter: 2) == [])
        #expect(pool.release(100, key: "a", reusable: false, now: t0) == [.connect(waiter: 2)])
        #expect(pool.openCount == 1)
    }

    @Test
    func aFailedConnectFreesItsSlot() {
        var pool = Pool(limit: 1, limitPerHost: 0)
        _ = pool.acquire("a", waiter: 1)
        _ = pool.acquire("a", waiter: 2)
        #expect(pool.connectFailed("a") == [.connect(waiter: 2)])
        #expect(pool.connectFailed("a") == [])
        #expect(pool.openCount == 0)
    }

    @Test
    func atTheTotalLimitTheOldestIdleConnectionOfAnotherHostIsEvicted() {
        var pool = Pool(limit: 2, limitPerHost: 0)
        _ = pool.acquire("a", waiter: 1)
        _ = pool.acquire("b", waiter: 2)
        _ = pool.release(100, key: "a", reusable: true, now: t0)
        _ = pool.release(200, key: "b", reusable: true, now: t0 + .seconds(1))
        #expect(pool.acquire("c", waiter: 3) == [.close(100), .connect(waiter: 3)])
        #expect(pool.openCount == 2)
        #expect(pool.idleConnections(for: "b") == [200])
    }

    @Test
    func waitersAreServedInOrderAndOthersMayPassABlockedOne() {
        var pool = Pool(limit: 3, limitPerHost: 1)
        _ = pool.acquire("a", waiter: 1)
        #expect(pool.acquire("a", waiter: 2) == [])
        // "b" is not blocked by the per-host limit of "a".
        #expect(pool.acquire("b", waiter: 3) == [.connect(waiter: 3)])
        #expect(pool.release(100, key: "a", reusable: true, now: t0) == [.handOver(waiter: 2, connection: 100)])
    }

    @Test
    func aWaiterThatGaveUpIsNotServed() {
        var pool = Pool(limit: 1, limitPerHost: 0)
        _ = pool.acquire("a", waiter: 1)
        _ = pool.acquire("a", waiter: 2)
        pool.removeWaiter(2)
        #expect(pool.release(100, key: "a", reusable: true, now: t0) == [])
        #expect(pool.idleCount == 1)
    }

    @Test
    func idleConnectionsExpireAndAnIdleClosedByTheServerIsForgotten() {
        var pool = Pool(limit: 0, limitPerHost: 0)
        _ = pool.acquire("a", waiter: 1)
        _ = pool.acquire("a", waiter: 2)
        _ = pool.acquire("b", waiter: 3)
        _ = pool.release(100, key: "a", reusable: true, now: t0)
        _ = pool.release(200, key: "a", reusable: true, now: t0 + .seconds(10))
        _ = pool.release(300, key: "b", reusable: true, now: t0 + .seconds(20))
        #expect(pool.oldestIdleSince == t0)
        #expect(pool.expire(idleSince: t0 + .seconds(5)) == [.close(100)])
        #expect(pool.idleClosed(300, key: "b") == [])
        #expect(pool.idleClosed(300, key: "b") == [])
        #expect(pool.openCount == 1)
        #expect(pool.idleCount == 1)
    }

    @Test
    func closeAllHandsBackIdleConnectionsAndWaiters() {
        var pool = Pool(limit: 1, limitPerHost: 0)
        _ = pool.acquire("a", waiter: 1)
        _ = pool.release(100, key: "a", reusable: true, now: t0)
        _ = pool.acquire("b", waiter: 2)  // evicts 100
        _ = pool.acquire("b", waiter: 3)
        let (idle, waiters) = pool.closeAll()
        #expect(idle == [])
        #expect(waiters == [3])
    }
}
