// SPDX-License-Identifier: MIT
// A bounded memo of results by text key, for work that sees the same text again and again: a
// bulk export or log repeats a few hundred reply templates over millions of rows, and diagnosing
// one costs microseconds while looking it up costs a hash. Memory stays flat: when the memo is
// full it is emptied and filled again (no LRU book-keeping on the hot path; a stream of distinct
// keys costs one clear per `capacity` misses).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bt
{

template<class Value> class BoundedMemo
{
public:
    explicit BoundedMemo(std::size_t capacity)
        : m_capacity(capacity)
    {
    }

    /// The value for `key`, made by `make()` the first time it is asked for (while it stays in).
    template<class Make> const Value& get(std::string_view key, Make&& make)
    {
        if (auto it = m_map.find(key); it != m_map.end()) {
            ++m_hits;
            return it->second;
        }
        if (m_map.size() >= m_capacity)
            m_map.clear();
        return m_map.emplace(std::string(key), make()).first->second;
    }

    /// The value for `key` if it is in, else null (valid until the next put() or get()).
    const Value* find(std::string_view key)
    {
        if (auto it = m_map.find(key); it != m_map.end()) {
            ++m_hits;
            return &it->second;
        }
        return nullptr;
    }
    /// Keeps `value` for `key` (made elsewhere: on other threads, for a batch of misses).
    void put(std::string_view key, Value value)
    {
        if (m_map.size() >= m_capacity)
            m_map.clear();
        m_map.insert_or_assign(std::string(key), std::move(value));
    }

    std::size_t hits() const { return m_hits; }
    std::size_t size() const { return m_map.size(); }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view> {}(s); }
    };
    std::size_t m_capacity;
    std::size_t m_hits = 0;
    std::unordered_map<std::string, Value, Hash, std::equal_to<>> m_map;
};

} // namespace bt
