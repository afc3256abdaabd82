// SPDX-License-Identifier: MIT
// SPF, DMARC and DKIM entries. The DNS answers come from the fuzz input through the resolver's
// own cache interface (dns::Cache): the real dns::Resolver, SPF evaluator and checks run, and
// every question is answered from the input before c-ares would send it, so nothing goes to the
// network (each entry checks that no question went out).
#include "checks.h"
#include "dns.h"
#include "entries.h"
#include "knowledge.h"
#include "spf.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bt::fuzz
{

namespace
{

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

std::string canonicalName(std::string_view name)
{
    std::string n = lower(name);
    while (!n.empty() && n.back() == '.')
        n.pop_back();
    return n;
}

/// A zone written in the fuzz input: answers by (name, type); a name the zone does not hold is
/// NXDOMAIN, a type it does not hold for a known name is "none" (NODATA).
class InputZone : public dns::Cache
{
public:
    void add(std::string_view name, dns::Type type, dns::Record record)
    {
        auto& a = answer(name, type);
        a.status = dns::Status::Ok;
        a.records.push_back(std::move(record));
    }
    /// "!nxdomain", "!servfail", "!timeout", "!none", "!error": how the question ends.
    void setStatus(std::string_view name, dns::Type type, dns::Status status)
    {
        auto& a = answer(name, type);
        a.status = status;
        a.records.clear();
    }

    std::optional<dns::Answer> get(const std::string& server, const std::string& name, dns::Type type,
                                   std::int64_t now) override
    {
        const auto key = std::pair {canonicalName(name), type};
        if (auto it = m_answers.find(key); it != m_answers.end())
            return stamped(it->second, server, now);
        dns::Answer a;
        a.name = key.first;
        a.type = type;
        a.status = m_names.count(key.first) ? dns::Status::None : dns::Status::NxDomain;
        return stamped(a, server, now);
    }
    void put(const dns::Answer&) override { }

private:
    dns::Answer& answer(std::string_view name, dns::Type type)
    {
        const auto key = std::pair {canonicalName(name), type};
        m_names.emplace(key.first, true);
        auto& a = m_answers[key];
        a.name = key.first;
        a.type = type;
        return a;
    }
    static dns::Answer stamped(dns::Answer a, const std::string& server, std::int64_t now)
    {
        a.server = server;
        a.checkedAt = now;
        a.ttl = 300;
        return a;
    }

    std::map<std::pair<std::string, dns::Type>, dns::Answer> m_answers;
    std::map<std::string, bool> m_names;
};

std::optional<dns::Type> typeNamed(std::string_view t)
{
    static const std::pair<std::string_view, dns::Type> types[]
        = {{"a", dns::Type::A},     {"aaaa", dns::Type::AAAA},   {"mx", dns::Type::MX}, {"txt", dns::Type::TXT},
           {"ptr", dns::Type::PTR}, {"cname", dns::Type::CNAME}, {"ns", dns::Type::NS}, {"soa", dns::Type::SOA}};
    const auto l = lower(t);
    for (const auto& [n, type] : types)
        if (l == n)
            return type;
    return std::nullopt;
}

std::optional<dns::Status> statusNamed(std::string_view s)
{
    if (s == "!nxdomain")
        return dns::Status::NxDomain;
    if (s == "!servfail")
        return dns::Status::ServFail;
    if (s == "!timeout")
        return dns::Status::Timeout;
    if (s == "!none")
        return dns::Status::None;
    if (s == "!error")
        return dns::Status::Error;
    return std::nullopt;
}

std::string_view nextWord(std::string_view& line)
{
    while (!line.empty() && line.front() == ' ')
        line.remove_prefix(1);
    const auto end = line.find(' ');
    const auto word = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end + 1);
    return word;
}

/// Lines "NAME TYPE VALUE" (VALUE is the rest of the line: a TXT string, an address, "10 mx.host"
/// for MX) or "NAME TYPE !servfail"; other lines are left out.
void addRecords(InputZone& zone, std::string_view text)
{
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        const auto name = nextWord(line);
        const auto type = typeNamed(nextWord(line));
        if (name.empty() || !type)
            continue;
        if (const auto status = statusNamed(line)) {
            zone.setStatus(name, *type, *status);
            continue;
        }
        dns::Record r;
        if (*type == dns::Type::MX) {
            const auto pref = nextWord(line);
            r.preference = std::atoi(std::string(pref).c_str());
        }
        r.value = std::string(line);
        r.ttl = 300;
        zone.add(name, *type, std::move(r));
    }
}

dns::Options zoneOptions(InputZone& zone)
{
    dns::Options o;
    // A server that is never asked (the zone answers first); a port nothing listens on, should
    // a question ever get past the zone.
    o.server = "127.0.0.1:9";
    o.timeoutMs = 50;
    o.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    o.cache = &zone;
    return o;
}

void checkNoNetwork(const dns::Resolver& r)
{
    if (r.liveQueries() != 0)
        fail(std::to_string(r.liveQueries()) + " DNS questions went past the input's zone");
}

const spf::Result kResults[] = {spf::Result::None,     spf::Result::Neutral,   spf::Result::Pass,     spf::Result::Fail,
                                spf::Result::SoftFail, spf::Result::TempError, spf::Result::PermError};

void checkEvaluation(const spf::Evaluation& e)
{
    if (std::find(std::begin(kResults), std::end(kResults), e.result) == std::end(kResults))
        fail("an SPF result outside RFC 7208's seven");
    (void)spf::resultName(e.result);
}

/// The checks of `request` against the zone, and their JSON.
CheckReport runAgainst(InputZone& zone, const CheckRequest& request)
{
    static const auto kb = KnowledgeBase::loadDefault();
    CheckOptions options;
    options.dnsServer = "127.0.0.1:9";
    options.timeoutMs = 50;
    options.deadlineMs = 5000;
    options.knowledge = kb;
    options.blocklists = false;
    options.cache = &zone;
    auto report = runChecks(request, options);
    if (report.liveQueries != 0)
        fail(std::to_string(report.liveQueries) + " DNS questions went past the input's zone");
    if (!report.error.empty())
        fail("the checks did not run: " + report.error);
    // The JSON the CLI prints must be JSON whatever bytes the records held.
    const auto json = toJson(report);
    if (!nlohmann::json::accept(json))
        fail("toJson gave text that is not JSON");
    return report;
}

/// One line per TXT string at `name`.
void addLines(InputZone& zone, std::string_view name, std::string_view text)
{
    while (true) {
        const auto nl = text.find('\n');
        zone.add(name, dns::Type::TXT, dns::Record {std::string(text.substr(0, nl)), 0, 300});
        if (nl == std::string_view::npos)
            break;
        text.remove_prefix(nl + 1);
    }
}

} // namespace

/// First line "IP DOMAIN [SENDER]", then the zone's lines (see addRecords).
void spf(std::string_view input)
{
    const auto nl = input.find('\n');
    std::string_view first = input.substr(0, nl);
    const std::string ip(nextWord(first)), domain(nextWord(first)), sender(nextWord(first));
    InputZone zone;
    if (nl != std::string_view::npos)
        addRecords(zone, input.substr(nl + 1));
    {
        dns::Resolver r(zoneOptions(zone));
        checkEvaluation(spf::checkHost(r, ip, domain, sender));
        checkNoNetwork(r);
    }
    {
        dns::Resolver r(zoneOptions(zone));
        checkEvaluation(spf::inspect(r, domain));
        checkNoNetwork(r);
    }
}

/// Each line a TXT string at _dmarc.mail.example.com, the exact name of the checked domain.
void dmarc(std::string_view input)
{
    InputZone zone;
    addLines(zone, "_dmarc.mail.example.com", input);
    const auto report = runAgainst(zone, CheckRequest {"mail.example.com", {}, {}, {}});
    if (!report.dmarc)
        fail("no DMARC check for a domain");
}

/// Each line a TXT string at sel._domainkey.example.com.
void dkim(std::string_view input)
{
    InputZone zone;
    addLines(zone, "sel._domainkey.example.com", input);
    const auto report = runAgainst(zone, CheckRequest {"example.com", {}, {}, {"sel"}});
    if (report.dkim.size() != 1)
        fail("one selector asked, " + std::to_string(report.dkim.size()) + " DKIM checks");
    const auto& k = report.dkim.front();
    if (k.keyValid && k.revoked)
        fail("a DKIM key both valid and revoked");
}

} // namespace bt::fuzz
