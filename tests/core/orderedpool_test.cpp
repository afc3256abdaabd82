// SPDX-License-Identifier: MIT
#include "orderedpool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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
