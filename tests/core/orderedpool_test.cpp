// SPDX-License-Identifier: MIT
#include "orderedpool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

TEST(OrderedPool, ResultsComeInSubmissionOrderWithBoundedWindow)
{
    std::vector<int> seen;
    std::atomic<int> inWork {0};
    std::atomic<int> maxInWork {0};
    {
        bt::OrderedPool<int, int> pool(
            [&](int&& x) {
                const int now = ++inWork;
                int expected = maxInWork.load();
                while (now > expected && !maxInWork.compare_exchange_weak(expected, now)) { }
                // Later items finish first now and then: the order must still hold.
                std::this_thread::sleep_for(std::chrono::microseconds((x * 7919) % 300));
                --inWork;
                return x * 2;
            },
            [&](int&& y) { seen.push_back(y); }, 4, 8);
        for (int i = 0; i < 500; ++i)
            pool.submit(int(i));
        pool.finish();
    }
    ASSERT_EQ(seen.size(), 500u);
    for (int i = 0; i < 500; ++i)
        ASSERT_EQ(seen[std::size_t(i)], i * 2) << "at " << i;
    EXPECT_LE(maxInWork.load(), 4);
}

TEST(OrderedPool, FinishWithNothingSubmittedAndTwice)
{
    int consumed = 0;
    bt::OrderedPool<int, int> pool([](int&& x) { return x; }, [&](int&&) { ++consumed; }, 2);
    pool.finish();
    pool.finish();
    EXPECT_EQ(consumed, 0);
}

// A submitter that blocks on its input (parse reading a pipe) must still see its earlier
// results leave: the worker that finishes the next one in order consumes it.
TEST(OrderedPool, ResultsLeaveWhileTheSubmitterWaitsForInput)
{
    std::mutex m;
    std::condition_variable cv;
    int consumed = 0;
    bt::OrderedPool<int, int> pool([](int&& x) { return x; },
                                   [&](int&&) {
                                       const std::lock_guard lock(m);
                                       ++consumed;
                                       cv.notify_all();
                                   },
                                   2);
    pool.submit(1);
    pool.submit(2);
    // No submit, no finish: the submitter is "reading". Both results must still be consumed.
    std::unique_lock lock(m);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return consumed == 2; }));
    lock.unlock();
    pool.finish();
    EXPECT_EQ(consumed, 2);
}
