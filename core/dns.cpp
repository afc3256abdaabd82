// SPDX-License-Identifier: MIT
#include "dns.h"

#include "text.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <ares.h>
#include <cstring>
#include <ctime>
#include <mutex>
#include <poll.h>
#include <stdexcept>

namespace bt::dns
{

const char* typeName(Type t)
{
    switch (t) {
    case Type::A:
        return "A";
    case Type::NS:
        return "NS";
    case Type::CNAME:
        return "CNAME";
    case Type::SOA:
        return "SOA";
    case Type::PTR:
        return "PTR";
    case Type::MX:
        return "MX";
    case Type::TXT:
        return "TXT";
    case Type::AAAA:
        return "AAAA";
    }
    return "?";
}

const char* statusName(Status s)
{
    switch (s) {
    case Status::Ok:
        return "ok";
    case Status::None:
        return "none";
    case Status::NxDomain:
        return "nxdomain";
    case Status::ServFail:
        return "servfail";
    case Status::Timeout:
        return "timeout";
    case Status::Error:
        return "error";
    }
    return "error";
}

namespace
{

std::uint16_t u16(const unsigned char* p)
{
    return std::uint16_t((p[0] << 8) | p[1]);
}

std::uint32_t u32(const unsigned char* p)
{
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

// A name inside the message (compression pointers resolved by c-ares); false when malformed.
bool expandName(const unsigned char* at, const unsigned char* buf, int len, std::string& out, long& used)
{
    char* name = nullptr;
    if (ares_expand_name(at, buf, len, &name, &used) != ARES_SUCCESS)
        return false;
    out = name;
    ares_free_string(name);
    return true;
}

// Decodes the records of the asked type and the negative TTL (RFC 2308: the SOA's minimum).
// The server's answer is parsed here rather than with ares_parse_*_reply because those drop
// the TTL of TXT, MX and PTR records, which the cache needs.
bool parseMessage(const unsigned char* buf, int len, Answer& a)
{
    if (len < 12)
        return false;
    if (buf[2] & 0x02)
        a.detail = "the answer was truncated even over TCP; records may be missing";
    const int qd = u16(buf + 4), an = u16(buf + 6), ns = u16(buf + 8);
    const unsigned char* p = buf + 12;
    const unsigned char* end = buf + len;
    for (int i = 0; i < qd; ++i) {
        std::string n;
        long used = 0;
        if (!expandName(p, buf, len, n, used) || p + used + 4 > end)
            return false;
        p += used + 4;
    }
    std::uint32_t minTtl = UINT32_MAX;
    for (int i = 0; i < an + ns; ++i) {
        std::string owner;
        long used = 0;
        if (!expandName(p, buf, len, owner, used) || p + used + 10 > end)
            return false;
        p += used;
        const auto type = u16(p);
        const auto ttl = u32(p + 4);
        const auto rdlen = u16(p + 8);
        p += 10;
        if (p + rdlen > end)
            return false;
        const unsigned char* rd = p;
        p += rdlen;
        if (i >= an) { // authority section: only the SOA matters (negative caching)
            if (type == std::uint16_t(Type::SOA)) {
                std::string mname, rname;
                long u1 = 0, u2 = 0;
                if (expandName(rd, buf, len, mname, u1) && expandName(rd + u1, buf, len, rname, u2)
                    && rd + u1 + u2 + 20 <= rd + rdlen)
                    a.ttl = std::min(ttl, u32(rd + u1 + u2 + 16));
            }
            continue;
        }
        if (type != std::uint16_t(a.type))
            continue; // a CNAME on the way to the asked record
        Record r;
        r.ttl = ttl;
        char text[INET6_ADDRSTRLEN] = {};
        switch (a.type) {
        case Type::A:
            if (rdlen != 4 || !inet_ntop(AF_INET, rd, text, sizeof text))
                return false;
            r.value = text;
            break;
        case Type::AAAA:
            if (rdlen != 16 || !inet_ntop(AF_INET6, rd, text, sizeof text))
                return false;
            r.value = text;
            break;
        case Type::TXT: {
            // RFC 7208 3.3: the strings of one record are concatenated without spaces.
            const unsigned char* q = rd;
            while (q < rd + rdlen) {
                const int n = *q++;
                if (q + n > rd + rdlen)
                    return false;
                r.value.append(reinterpret_cast<const char*>(q), std::size_t(n));
                q += n;
            }
            break;
        }
        case Type::MX: {
            if (rdlen < 3)
                return false;
            r.preference = u16(rd);
            long u = 0;
            if (!expandName(rd + 2, buf, len, r.value, u))
                return false;
            break;
        }
        default: {
            long u = 0;
            if (!expandName(rd, buf, len, r.value, u))
                return false;
        }
        }
        minTtl = std::min(minTtl, ttl);
        a.records.push_back(std::move(r));
    }
    if (!a.records.empty())
        a.ttl = minTtl;
    return true;
}

struct Pending {
    Answer* answer = nullptr;
    bool done = false;
};

void onAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen)
{
    auto* pending = static_cast<Pending*>(arg);
    Answer& a = *pending->answer;
    pending->done = true;
    a.checkedAt = std::time(nullptr);
    switch (status) {
    case ARES_SUCCESS:
    case ARES_ENODATA:
        if (!abuf || !parseMessage(abuf, alen, a)) {
            a.status = Status::Error;
            a.detail = "malformed answer";
            a.records.clear();
            return;
        }
        a.status = a.records.empty() ? Status::None : Status::Ok;
        return;
    case ARES_ENOTFOUND:
        if (abuf)
            parseMessage(abuf, alen, a);
        a.records.clear();
        a.status = Status::NxDomain;
        return;
    case ARES_ESERVFAIL:
        a.status = Status::ServFail;
        return;
    case ARES_ETIMEOUT:
        a.status = Status::Timeout;
        a.detail = "no answer from the server";
        return;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
        a.status = Status::Error; // the caller rewrites this as timeout or cancelled
        a.detail = "cancelled";
        return;
    case ARES_EREFUSED:
        a.status = Status::Error;
        a.detail = "the server refused the query";
        return;
    case ARES_ECONNREFUSED:
        a.status = Status::Error;
        a.detail = "connection refused (nothing listens at the server's address)";
        return;
    default:
        a.status = Status::Error;
        a.detail = ares_strerror(status);
    }
}

} // namespace

struct Resolver::Impl {
    ares_channel channel = nullptr;
};

Resolver::Resolver(Options options)
    : m_impl(std::make_unique<Impl>())
    , m_options(std::move(options))
{
    static std::once_flag once;
    static int initStatus = ARES_SUCCESS;
    std::call_once(once, [] { initStatus = ares_library_init(ARES_LIB_INIT_ALL); });
    if (initStatus != ARES_SUCCESS)
        throw std::runtime_error(std::string("c-ares: ") + ares_strerror(initStatus));

    ares_options opts {};
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    // NOCHECKRESP: report SERVFAIL/REFUSED as they come instead of retrying them; the
    // others keep the asked name as is (no search list, no HOSTALIASES).
    opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    // Three tries fit in the question's time (c-ares doubles the wait per round).
    opts.timeout = std::max(100, m_options.timeoutMs / 7);
    opts.tries = 3;
    if (const int st = ares_init_options(&m_impl->channel, &opts, mask); st != ARES_SUCCESS)
        throw std::runtime_error(std::string("c-ares: ") + ares_strerror(st));
    if (!m_options.server.empty()) {
        if (const int st = ares_set_servers_ports_csv(m_impl->channel, m_options.server.c_str()); st != ARES_SUCCESS) {
            ares_destroy(m_impl->channel);
            throw std::runtime_error("DNS server \"" + m_options.server
                                     + "\" is not an address (HOST or HOST:PORT with HOST an IP): "
                                     + ares_strerror(st));
        }
    }
    ares_addr_port_node* servers = nullptr;
    if (ares_get_servers_ports(m_impl->channel, &servers) == ARES_SUCCESS) {
        for (auto* s = servers; s; s = s->next) {
            char text[INET6_ADDRSTRLEN] = {};
            inet_ntop(s->family, &s->addr, text, sizeof text);
            if (!m_serverText.empty())
                m_serverText += ", ";
            const int port = s->udp_port ? s->udp_port : 53;
            // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on "[" + std::string.
            if (s->family == AF_INET6)
                m_serverText += '[';
            m_serverText += text;
            if (s->family == AF_INET6)
                m_serverText += ']';
            m_serverText += ':';
            m_serverText += std::to_string(port);
        }
        ares_free_data(servers);
    }
}

Resolver::~Resolver()
{
    if (m_impl->channel)
        ares_destroy(m_impl->channel);
}

bool Resolver::cancelled() const
{
    return m_options.cancel && m_options.cancel->load();
}

bool Resolver::pastDeadline() const
{
    return std::chrono::steady_clock::now() >= m_options.deadline;
}

Answer Resolver::query(const std::string& name, Type type)
{
    return queryAll({Question {name, type}}).front();
}

std::vector<Answer> Resolver::queryAll(const std::vector<Question>& questions)
{
    std::vector<Answer> answers(questions.size());
    std::vector<Pending> pending(questions.size());
    const std::int64_t now = std::time(nullptr);
    int live = 0;
    for (std::size_t i = 0; i < questions.size(); ++i) {
        Answer& a = answers[i];
        a.name = text::toLower(questions[i].name);
        while (!a.name.empty() && a.name.back() == '.')
            a.name.pop_back();
        a.type = questions[i].type;
        a.server = m_serverText;
        pending[i].answer = &a;
        if (auto memo = m_memo.find({a.name, a.type}); memo != m_memo.end()) {
            a = memo->second;
            pending[i].done = true;
            continue;
        }
        if (m_options.cache) {
            if (auto hit = m_options.cache->get(m_serverText, a.name, a.type, now)) {
                a = std::move(*hit);
                a.cached = true;
                pending[i].done = true;
                continue;
            }
        }
        if (a.name.empty() || a.name.size() > 253) {
            a.status = Status::Error;
            a.detail = "not a valid domain name";
            pending[i].done = true;
            continue;
        }
        if (cancelled() || pastDeadline()) {
            a.status = cancelled() ? Status::Error : Status::Timeout;
            a.detail = cancelled() ? "cancelled" : "the check's deadline passed before this question";
            pending[i].done = true;
            continue;
        }
        ++live;
        ares_query(m_impl->channel, a.name.c_str(), ns_c_in, int(a.type), onAnswer, &pending[i]);
    }
    m_liveQueries += live;

    using clock = std::chrono::steady_clock;
    const auto batchDeadline
        = std::min(m_options.deadline, clock::now() + std::chrono::milliseconds(m_options.timeoutMs));
    bool stoppedByDeadline = false;
    auto anyPending
        = [&] { return std::any_of(pending.begin(), pending.end(), [](const Pending& p) { return !p.done; }); };
    while (anyPending()) {
        if (cancelled() || clock::now() >= batchDeadline) {
            stoppedByDeadline = !cancelled();
            ares_cancel(m_impl->channel); // every pending callback runs now, with ARES_ECANCELLED
            break;
        }
        // poll(), not select(): a GUI process may hold descriptors above FD_SETSIZE.
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        const int bits = ares_getsock(m_impl->channel, socks, ARES_GETSOCK_MAXNUM);
        std::vector<pollfd> fds;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            short events = 0;
            if (ARES_GETSOCK_READABLE(bits, i))
                events |= POLLIN;
            if (ARES_GETSOCK_WRITABLE(bits, i))
                events |= POLLOUT;
            if (events)
                fds.push_back({socks[i], events, 0});
        }
        // Wake at least every 50 ms so that a cancel flag is seen promptly.
        timeval cap {0, 50000};
        timeval tv {};
        const timeval* tvp = ares_timeout(m_impl->channel, &cap, &tv);
        auto waitMs = std::int64_t(tvp->tv_sec) * 1000 + tvp->tv_usec / 1000;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(batchDeadline - clock::now()).count();
        waitMs = std::clamp<std::int64_t>(std::min<std::int64_t>(waitMs, left), 0, 50);
        const int ready = ::poll(fds.data(), fds.size(), int(waitMs));
        if (ready <= 0) {
            ares_process_fd(m_impl->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD); // timeouts and retries
            continue;
        }
        for (const auto& f : fds) {
            const bool readable = f.revents & (POLLIN | POLLERR | POLLHUP);
            const bool writable = f.revents & POLLOUT;
            if (readable || writable)
                ares_process_fd(m_impl->channel, readable ? f.fd : ARES_SOCKET_BAD, writable ? f.fd : ARES_SOCKET_BAD);
        }
    }
    for (auto& a : answers) {
        if (a.cached)
            continue;
        if (a.detail == "cancelled" && stoppedByDeadline) {
            a.status = Status::Timeout;
            a.detail = "no answer within " + std::to_string(m_options.timeoutMs) + " ms";
        }
        if (m_options.cache && a.checkedAt != 0
            && (a.status == Status::Ok || a.status == Status::None || a.status == Status::NxDomain)) {
            if (a.ttl == 0 && a.status != Status::Ok)
                a.ttl = 300; // no SOA in a negative answer: keep it five minutes
            if (a.ttl > 0)
                m_options.cache->put(a);
        }
    }
    // A question that ran out its time is not asked again in this run: SPF's record check and
    // its evaluation ask the same TXT, and each repeat waited the whole timeout once more.
    // Only a cancelled question is forgotten.
    for (const auto& a : answers)
        if (a.detail != "cancelled")
            m_memo.emplace(std::pair {a.name, a.type}, a);
    if (m_trace)
        m_trace->insert(m_trace->end(), answers.begin(), answers.end());
    return answers;
}

std::string reverseName(const std::string& ip)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, ip.c_str(), b) == 1)
        return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "."
            + std::to_string(b[0]);
    if (inet_pton(AF_INET6, ip.c_str(), b) == 1) {
        static const char hex[] = "0123456789abcdef";
        std::string out;
        for (int i = 15; i >= 0; --i) {
            out += hex[b[i] & 0xf];
            out += '.';
            out += hex[b[i] >> 4];
            if (i)
                out += '.';
        }
        return out;
    }
    return {};
}

bool isIpAddress(const std::string& text)
{
    unsigned char b[16];
    return inet_pton(AF_INET, text.c_str(), b) == 1 || inet_pton(AF_INET6, text.c_str(), b) == 1;
}

} // namespace bt::dns
