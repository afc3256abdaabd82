// SPDX-License-Identifier: MIT
#include "classifier.h"

#include "replyparser.h"
#include "text.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>

namespace bt
{
namespace
{

RE2::Options patternOptions()
{
    RE2::Options o;
    o.set_case_sensitive(false);
    o.set_log_errors(false);
    // Rule sets grow with every provider's wording; give the DFA room so Match never bails out.
    o.set_max_mem(int64_t {256} << 20);
    return o;
}

/// A group of RE2 patterns matched in one pass by an RE2::Set, with each pattern also kept
/// alone so the span of a hit can be found afterwards (RE2::Set only says which matched).
class PatternSet
{
public:
    PatternSet()
        : m_set(patternOptions(), RE2::UNANCHORED)
    {
    }

    /// Adds a pattern owned by `owner`; throws KnowledgeError naming `where` if it is invalid.
    void add(const std::string& pattern, std::size_t owner, const std::string& where)
    {
        auto re = std::make_unique<RE2>(pattern, patternOptions());
        if (!re->ok())
            throw KnowledgeError(where + ": invalid pattern \"" + pattern + "\": " + re->error());
        std::string error;
        if (m_set.Add(pattern, &error) < 0)
            throw KnowledgeError(where + ": invalid pattern \"" + pattern + "\": " + error);
        m_owners.push_back(owner);
        m_single.push_back(std::move(re));
    }

    void compile()
    {
        if (!m_owners.empty() && !m_set.Compile())
            throw KnowledgeError("rule patterns could not be compiled together (RE2::Set out of memory)");
        m_compiled = !m_owners.empty();
    }

    /// Indices (into add() order) of every pattern that occurs in s, ascending.
    void match(std::string_view s, std::vector<int>& hits) const
    {
        hits.clear();
        if (m_compiled)
            m_set.Match(re2::StringPiece(s.data(), s.size()), &hits);
        std::sort(hits.begin(), hits.end());
    }

    std::size_t owner(int index) const { return m_owners[static_cast<std::size_t>(index)]; }

    /// Byte span of pattern `index` in s.
    bool span(int index, std::string_view s, std::size_t& start, std::size_t& end) const
    {
        re2::StringPiece m;
        if (!m_single[static_cast<std::size_t>(index)]->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(),
                                                              RE2::UNANCHORED, &m, 1))
            return false;
        start = static_cast<std::size_t>(m.data() - s.data());
        end = start + m.size();
        return true;
    }

private:
    RE2::Set m_set;
    std::vector<std::size_t> m_owners;
    std::vector<std::unique_ptr<RE2>> m_single;
    bool m_compiled = false;
};

bool hostHasSuffix(std::string_view host, std::string_view suffix)
{
    if (host.size() < suffix.size())
        return false;
    const auto tail = host.substr(host.size() - suffix.size());
    if (text::toLower(tail) != text::toLower(suffix))
        return false;
    return host.size() == suffix.size() || host[host.size() - suffix.size() - 1] == '.';
}

constexpr std::array<std::string_view, 4> kHardReasons {"userunknown", "hasmoved", "hostunknown", "notaccept"};

} // namespace

struct Classifier::Impl {
    PatternSet rules;
    std::vector<std::size_t> codeOnlyRules;
    PatternSet blocklists;
    PatternSet providers;
};

Classifier::Classifier(std::shared_ptr<const KnowledgeBase> kb)
    : m_kb(std::move(kb))
    , m_impl(std::make_unique<Impl>())
{
    const auto& rules = m_kb->rules();
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto where = rules[i].origin + ": rule \"" + rules[i].id + "\"";
        for (const auto& p : rules[i].patterns)
            m_impl->rules.add(p, i, where);
        if (rules[i].patterns.empty())
            m_impl->codeOnlyRules.push_back(i);
    }
    m_impl->rules.compile();
    const auto& lists = m_kb->blocklists();
    for (std::size_t i = 0; i < lists.size(); ++i)
        for (const auto& p : lists[i].patterns)
            m_impl->blocklists.add(p, i, "blocklists: \"" + lists[i].name + "\"");
    m_impl->blocklists.compile();
    const auto& providers = m_kb->providers();
    for (std::size_t i = 0; i < providers.size(); ++i)
        for (const auto& p : providers[i].patterns)
            m_impl->providers.add(p, i, "providers: \"" + providers[i].name + "\"");
    m_impl->providers.compile();
}

Classifier::~Classifier() = default;

Diagnosis Classifier::diagnoseText(std::string_view input) const
{
    return diagnose(primaryReply(input));
}

Diagnosis Classifier::diagnose(const Reply& reply) const
{
    Diagnosis d;
    d.basicCode = reply.basicCode;
    d.enhancedCode = reply.enhancedCode;
    d.replyText = reply.text;
    d.remoteHost = reply.remoteHost;
    d.remoteIp = reply.remoteIp;
    d.smtpStage = reply.smtpStage;
    const std::string_view s = d.replyText;
    const char cls = !d.enhancedCode.empty() ? d.enhancedCode.front()
        : d.basicCode                        ? static_cast<char>('0' + *d.basicCode / 100)
                                             : '0';
    d.permanent = cls == '5';

    // Provider: the remote host is the surest sign, wording in the reply the next.
    const auto& providers = m_kb->providers();
    for (const auto& p : providers) {
        for (const auto& suffix : p.hostSuffixes)
            if (!d.remoteHost.empty() && hostHasSuffix(d.remoteHost, suffix)) {
                d.provider = p.name;
                break;
            }
        if (!d.provider.empty())
            break;
    }
    thread_local std::vector<int> hits;
    if (d.provider.empty()) {
        m_impl->providers.match(s, hits);
        if (!hits.empty())
            d.provider = providers[m_impl->providers.owner(hits.front())].name;
    }

    // Blocklists cited anywhere in the reply, each list once.
    const auto& lists = m_kb->blocklists();
    std::vector<Evidence> listEvidence;
    m_impl->blocklists.match(s, hits);
    std::vector<std::size_t> listSeen;
    for (int h : hits) {
        const auto li = m_impl->blocklists.owner(h);
        if (std::find(listSeen.begin(), listSeen.end(), li) != listSeen.end())
            continue;
        Evidence e;
        if (!m_impl->blocklists.span(h, s, e.start, e.end))
            continue;
        // A more specific list cited at the same place wins over a generic one ("Spamhaus").
        bool overlaps = false;
        for (const auto& o : listEvidence)
            overlaps = overlaps || (e.start < o.end && o.start < e.end);
        if (overlaps)
            continue;
        listSeen.push_back(li);
        e.rule = "blocklist:" + lists[li].name;
        listEvidence.push_back(std::move(e));
        const auto& info = lists[li];
        d.blocklists.push_back(
            {info.name, info.zones.empty() ? std::string() : info.zones.front(), info.lists, info.delistUrl});
    }

    // Rules: every pattern in one pass, then code and provider constraints.
    const auto& rules = m_kb->rules();
    struct Candidate {
        std::size_t rule;
        int pattern = -1;
    };
    std::vector<Candidate> candidates;
    auto fits = [&](const Rule& r) {
        if (!r.provider.empty() && r.provider != d.provider)
            return false;
        if (r.codes.empty())
            return true;
        return std::any_of(r.codes.begin(), r.codes.end(),
                           [&](const std::string& c) { return matchesCodePattern(c, d.basicCode, d.enhancedCode); });
    };
    m_impl->rules.match(s, hits);
    for (int h : hits) {
        const auto ri = m_impl->rules.owner(h);
        if (std::any_of(candidates.begin(), candidates.end(), [&](const Candidate& c) { return c.rule == ri; }))
            continue;
        if (fits(rules[ri]))
            candidates.push_back({ri, h});
    }
    for (const auto ri : m_impl->codeOnlyRules)
        if (fits(rules[ri]))
            candidates.push_back({ri, -1});
    // Highest priority first; file order breaks ties so results never depend on hash order.
    std::stable_sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
        return rules[a.rule].priority > rules[b.rule].priority;
    });

    const CodeInfo* code = d.enhancedCode.empty() ? nullptr : m_kb->codeInfo(d.enhancedCode);
    const Rule* winner = candidates.empty() ? nullptr : &rules[candidates.front().rule];
    // The strongest signal decides: the best rule's priority, the code's own weight, or a cited
    // blocklist (a listing is a reputation block even when no rule knows the wording).
    constexpr int kBlocklistWeight = 85;
    const int rulePriority = winner ? winner->priority : -1;
    const int codeWeight = code && !code->reason.empty() ? code->weight : -1;
    // A Spamhaus "query refused" code next to a zone name means the receiver's lookup failed:
    // the zone alone then proves no listing.
    const bool anyListing
        = std::any_of(d.blocklists.begin(), d.blocklists.end(), [](const BlocklistHit& b) { return b.listing; });
    const bool lookupFailed
        = std::any_of(d.blocklists.begin(), d.blocklists.end(), [](const BlocklistHit& b) { return !b.listing; });
    const int listWeight = anyListing && !lookupFailed ? kBlocklistWeight : -1;
    const bool codeDecides = codeWeight > rulePriority && codeWeight > listWeight;
    const bool listDecides = !codeDecides && listWeight > rulePriority;
    if (codeDecides)
        d.reason = code->reason;
    else if (listDecides)
        d.reason = "blocked";
    else if (winner)
        d.reason = winner->reason;
    d.family = std::string(familyOf(d.reason));
    d.spamRelated = std::string(defaultSpamRelated(d.reason));
    d.action = std::string(defaultAction(d.reason));
    if (winner && !codeDecides && !listDecides) {
        if (!winner->spamRelated.empty())
            d.spamRelated = winner->spamRelated;
        if (!winner->action.empty())
            d.action = winner->action;
    }
    // A rejection that names a blocklist is about spam, whatever the family default says.
    if (anyListing && !lookupFailed && (d.family == "reputation" || d.family == "policy" || d.family == "content"))
        d.spamRelated = "yes";

    // Evidence: the code when it decided, the winning rule's words, then every other rule
    // that agrees on the family, then the blocklists cited.
    if (codeDecides || (code && !code->reason.empty() && code->reason == d.reason)) {
        const auto at = s.find(d.enhancedCode);
        if (at != std::string_view::npos)
            d.evidence.push_back({at, at + d.enhancedCode.size(), "code:" + d.enhancedCode});
    }
    for (const auto& c : candidates) {
        const auto& r = rules[c.rule];
        d.ruleIds.push_back(r.id);
        if (familyOf(r.reason) != d.family)
            continue;
        Evidence e;
        e.rule = r.id;
        if (c.pattern >= 0 && m_impl->rules.span(c.pattern, s, e.start, e.end) && e.end > e.start)
            d.evidence.push_back(std::move(e));
    }
    for (auto& e : listEvidence)
        d.evidence.push_back(std::move(e));
    std::stable_sort(d.evidence.begin(), d.evidence.end(),
                     [](const Evidence& a, const Evidence& b) { return a.start < b.start; });

    d.hardBounce = cls != '4' && cls != '2'
        && std::find(kHardReasons.begin(), kHardReasons.end(), d.reason) != kHardReasons.end();

    // Plain meaning of the codes.
    if (!d.enhancedCode.empty()) {
        std::string m = d.enhancedCode;
        if (code && !code->name.empty())
            m += " " + code->name;
        const auto cm = m_kb->classMeaning(d.enhancedCode.front());
        const auto dot1 = d.enhancedCode.find('.');
        const auto dot2 = d.enhancedCode.find('.', dot1 + 1);
        const auto sm = m_kb->subjectMeaning(std::string_view(d.enhancedCode).substr(dot1 + 1, dot2 - dot1 - 1));
        if (!cm.empty() || !sm.empty())
            m += " (" + cm + (cm.empty() || sm.empty() ? "" : "; ") + sm + ")";
        if (code && !code->meaning.empty())
            m += ": " + code->meaning;
        d.codeMeaning = m;
    }
    if (d.basicCode) {
        const auto bm = m_kb->basicMeaning(*d.basicCode);
        const auto b = std::to_string(*d.basicCode) + (bm.empty() ? std::string() : " " + bm);
        d.codeMeaning = d.codeMeaning.empty() ? b : b + ". " + d.codeMeaning;
    }

    // Explanation and steps: the winning rule's, else the reason's defaults.
    const auto* info = m_kb->reasonInfo(d.reason);
    if (winner && !codeDecides && !listDecides) {
        d.explanation = winner->explanation;
        d.steps = winner->steps;
        d.references = winner->references;
    }
    if (d.explanation.empty() && info)
        d.explanation = info->explanation;
    if (d.steps.empty() && info)
        d.steps = info->steps;
    for (const auto& b : d.blocklists) {
        if (b.delistUrl.empty())
            continue;
        const bool mentioned = std::any_of(d.steps.begin(), d.steps.end(), [&](const std::string& st) {
            return st.find(b.delistUrl) != std::string::npos;
        });
        if (!mentioned)
            d.steps.push_back("Look the sending IP or domain up on " + b.name + " (" + b.delistUrl
                              + ") and request removal once the cause is fixed.");
    }
    return d;
}

} // namespace bt
