// SPDX-License-Identifier: MIT
#include "providerlookup.h"

#include "checks.h"
#include "knowledge.h"
#include "replytemplate.h"
#include "sqlite.h"

#include <algorithm>

namespace bt
{
namespace
{

/// A name DNS can be asked about: letters, digits, hyphens and dots, with a dot inside.
bool askable(const std::string& d)
{
    if (d.size() < 3 || d.size() > 253 || d.find('.') == std::string::npos || d.front() == '.' || d.back() == '.')
        return false;
    return std::all_of(d.begin(), d.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; });
}

} // namespace

ProviderLookup lookUpProviders(Workspace& ws, const KnowledgeBase& kb, dns::Options options, int maxDomains)
{
    ProviderLookup out;
    std::vector<std::pair<std::string, std::int64_t>> domains;
    {
        auto st = ws.db().prepare("SELECT lower(recipient_domain), COUNT(*) FROM events WHERE (provider IS NULL OR "
                                  "provider = '') AND COALESCE(recipient_domain, '') <> '' GROUP BY 1 "
                                  "ORDER BY 2 DESC, 1 LIMIT ?");
        st.bind(1, static_cast<std::int64_t>(maxDomains));
        while (st.step())
            if (askable(st.text(0)))
                domains.emplace_back(st.text(0), st.int64(1));
    }
    if (domains.empty())
        return out;
    const auto cache = workspaceDnsCache(ws);
    options.cache = cache.get();
    std::vector<dns::Answer> answers;
    {
        dns::Resolver resolver(options);
        out.server = resolver.serverDescription();
        std::vector<dns::Question> questions;
        for (const auto& [d, n] : domains)
            questions.push_back({d, dns::Type::MX});
        answers = resolver.queryAll(questions);
    }
    sql::Transaction tx(ws.db());
    auto update = ws.db().prepare(
        "UPDATE events SET provider = ? WHERE lower(recipient_domain) = ? AND (provider IS NULL OR provider = '')");
    for (std::size_t i = 0; i < domains.size() && i < answers.size(); ++i) {
        const dns::Answer& a = answers[i];
        ProviderLookup::Domain d;
        d.domain = domains[i].first;
        d.status = dns::statusName(a.status);
        d.cached = a.cached;
        // The most preferred MX that a provider table names.
        auto records = a.records;
        std::stable_sort(records.begin(), records.end(),
                         [](const dns::Record& x, const dns::Record& y) { return x.preference < y.preference; });
        for (const auto& r : records) {
            if (d.mx.empty())
                d.mx = r.value;
            if (auto p = providerFor(kb, {}, r.value); !p.empty()) {
                d.provider = std::move(p);
                d.mx = r.value;
                break;
            }
        }
        if (!d.provider.empty()) {
            update.reset();
            update.bind(1, d.provider).bind(2, d.domain);
            update.run();
            d.events = ws.db().changes();
            out.events += d.events;
        }
        out.domains.push_back(std::move(d));
    }
    if (out.events > 0)
        ws.db().exec("DELETE FROM cube_cache"); // the counts by provider changed under the same events
    tx.commit();
    return out;
}

} // namespace bt
