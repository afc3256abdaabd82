// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bt::dns
{

/// Record types the checks ask for (values are the DNS wire codes).
enum class Type : std::uint16_t { A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28 };

/// "A", "MX" … for reports and the cache key.
const char* typeName(Type t);

/// How a lookup ended, in the words the check JSON uses.
/// ok: answers; none: the name exists without such records; nxdomain; servfail; timeout;
/// error: refused, malformed, cancelled or a local failure (see DnsAnswer::detail).
enum class Status { Ok, None, NxDomain, ServFail, Timeout, Error };

const char* statusName(Status s);

/// One answer record, decoded: A/AAAA as text, TXT strings concatenated (RFC 7208 3.3),
/// MX as its host with the preference beside, names without the trailing dot.
struct Record {
    std::string value;
    int preference = 0; ///< MX only
    std::uint32_t ttl = 0;
};

/// The result of one question, with how it was obtained.
struct Answer {
    std::string name;
    Type type = Type::A;
    Status status = Status::Error;
    std::string detail; ///< c-ares' words for an error, "truncated …" notes
    std::vector<Record> records; ///< of the asked type only (CNAME chains are followed by the server)
    std::uint32_t ttl = 0; ///< smallest TTL of the records, or the negative TTL from the SOA
    std::string server; ///< "127.0.0.1:5353", or "cache" is never used: see cached
    bool cached = false;
    std::int64_t checkedAt = 0; ///< unix seconds when the server answered
};

/// Where answers can be kept between runs (the workspace implements it).
class Cache
{
public:
    virtual ~Cache() = default;
    /// A stored answer still within its TTL at `now`, else nullopt.
    virtual std::optional<Answer> get(const std::string& server, const std::string& name, Type type, std::int64_t now)
        = 0;
    virtual void put(const Answer& answer) = 0;
};

/// Resolver settings.
struct Options {
    std::string server; ///< "HOST" or "HOST:PORT"; empty = the system's resolv.conf servers
    int timeoutMs = 3000; ///< per question (all retries included)
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(); ///< overall
    const std::atomic<bool>* cancel = nullptr; ///< set to true to stop: pending questions end as errors
    Cache* cache = nullptr;
};

/// One question of a batch.
struct Question {
    std::string name;
    Type type = Type::A;
};

/// A stub resolver over c-ares: asks one recursive server (or the system's), never hangs past
/// its timeouts, retries truncated UDP answers over TCP (c-ares does so by itself).
class Resolver
{
public:
    /// Throws std::runtime_error when c-ares cannot start or the server is not an address.
    explicit Resolver(Options options);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    /// Asks one question.
    Answer query(const std::string& name, Type type);
    /// Asks all questions at once; answers come back in the same order.
    std::vector<Answer> queryAll(const std::vector<Question>& questions);
    /// The server(s) asked, as "host:port" joined by ", ".
    const std::string& serverDescription() const { return m_serverText; }
    /// Questions that went to the network (not the cache).
    int liveQueries() const { return m_liveQueries; }
    bool cancelled() const;
    bool pastDeadline() const;
    /// Every answer given from now on is also appended to `trace` (nullptr stops): lets a
    /// caller say how the answers behind one finding were obtained.
    void setTrace(std::vector<Answer>* trace) { m_trace = trace; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    Options m_options;
    std::string m_serverText;
    int m_liveQueries = 0;
    std::vector<Answer>* m_trace = nullptr;
    /// Answers of this run by (name, type): one check asks many names twice (SPF record and
    /// the lookup count, PTR and forward names); they are asked once.
    std::map<std::pair<std::string, Type>, Answer> m_memo;
};

/// "4.3.2.1" for 1.2.3.4; nibbles for IPv6 (RFC 3596); empty when `ip` is not an address.
std::string reverseName(const std::string& ip);
/// True for a textual IPv4 or IPv6 address.
bool isIpAddress(const std::string& text);

} // namespace bt::dns
