// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace bt
{

/// Runs `work` on submitted items on worker threads and hands the results to `consume` in
/// submission order, as soon as the next one in order is done: on the worker that finished it,
/// or on the submitting thread while it waits for room. So results leave while the submitter is
/// blocked reading its input (a pipe that brings the next message later). At most `window`
/// items are in flight, so reading a 2 GB mbox on all cores keeps memory bounded. `work` must
/// be thread-safe; `consume` never runs concurrently with itself (one thread drains at a time).
template<typename In, typename Out> class OrderedPool
{
public:
    OrderedPool(std::function<Out(In&&)> work, std::function<void(Out&&)> consume, unsigned threads,
                std::size_t window = 64)
        : m_work(std::move(work))
        , m_consume(std::move(consume))
        , m_window(std::max<std::size_t>(window, 1))
    {
        threads = std::max(1u, threads);
        for (unsigned i = 0; i < threads; ++i)
            m_workers.emplace_back([this] { run(); });
    }

    ~OrderedPool() { finish(); }
    OrderedPool(const OrderedPool&) = delete;
    OrderedPool& operator=(const OrderedPool&) = delete;

    /// Queues one item; while the window is full, consumes finished results in order. A full
    /// window is left to drain to half before the submitter goes on: woken per result, it and
    /// the workers would trade a futex wake-up and a context switch for every message.
    void submit(In&& item)
    {
        std::unique_lock lock(m_mutex);
        if (m_submitted - m_consumed >= m_window) {
            while (m_submitted - m_consumed > m_window / 2) {
                drain(lock);
                if (m_submitted - m_consumed > m_window / 2)
                    waitForResults(lock);
            }
        }
        m_pending.emplace_back(m_submitted++, std::move(item));
        m_workAvailable.notify_one();
    }

    /// Waits for every submitted item and consumes the rest; stops the workers.
    void finish()
    {
        std::unique_lock lock(m_mutex);
        while (m_consumed < m_submitted) {
            drain(lock);
            if (m_consumed < m_submitted)
                waitForResults(lock);
        }
        if (m_stopping)
            return;
        m_stopping = true;
        m_workAvailable.notify_all();
        lock.unlock();
        for (auto& t : m_workers)
            t.join();
    }

private:
    void waitForResults(std::unique_lock<std::mutex>& lock)
    {
        ++m_waiters;
        m_doneChanged.wait(lock);
        --m_waiters;
    }

    /// Wakes a waiting submitter (or finish()) when what it waits for may have come: the window
    /// half empty, or everything consumed. Not per result: see submit().
    void wakeWaiters()
    {
        if (m_waiters > 0 && (m_submitted - m_consumed <= m_window / 2 || m_consumed == m_submitted))
            m_doneChanged.notify_all();
    }

    /// Consumes the finished results that are next in order, outside the lock.
    void drain(std::unique_lock<std::mutex>& lock)
    {
        if (m_draining)
            return; // another thread is consuming: it takes what becomes ready, in order
        m_draining = true;
        while (true) {
            auto it = m_done.find(m_consumed);
            if (it == m_done.end())
                break;
            Out out = std::move(it->second);
            m_done.erase(it);
            lock.unlock();
            m_consume(std::move(out));
            lock.lock();
            ++m_consumed;
        }
        m_draining = false;
        wakeWaiters();
    }

    void run()
    {
        std::unique_lock lock(m_mutex);
        while (true) {
            m_workAvailable.wait(lock, [this] { return m_stopping || !m_pending.empty(); });
            if (m_pending.empty())
                return; // stopping and nothing left
            auto [seq, item] = std::move(m_pending.front());
            m_pending.pop_front();
            lock.unlock();
            Out out = m_work(std::move(item));
            lock.lock();
            m_done.emplace(seq, std::move(out));
            // The thread that drains (this one, or the one draining now) consumes it in order.
            drain(lock);
        }
    }

    std::function<Out(In&&)> m_work;
    std::function<void(Out&&)> m_consume;
    std::size_t m_window;
    std::mutex m_mutex;
    std::condition_variable m_workAvailable;
    std::condition_variable m_doneChanged;
    std::deque<std::pair<std::size_t, In>> m_pending;
    std::map<std::size_t, Out> m_done;
    std::size_t m_submitted = 0;
    std::size_t m_consumed = 0;
    bool m_stopping = false;
    bool m_draining = false; ///< a thread is consuming (outside the lock)
    int m_waiters = 0; ///< threads in waitForResults()
    std::vector<std::thread> m_workers;
};

} // namespace bt
