// SPDX-License-Identifier: MIT
#include "knowledge.h"

#include "classifier.h"
#include "embedded.h"
#include "replymodel.h"
#include "text.h"
#include "userconfig.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <simdjson.h>
#include <sstream>

namespace bt
{
namespace
{

using nlohmann::json;

/// A document simdjson has read, as nlohmann's value the readers below take.
json fromDom(simdjson::dom::element e)
{
    switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
        json a = json::array();
        for (const auto x : e.get_array())
            a.push_back(fromDom(x));
        return a;
    }
    case simdjson::dom::element_type::OBJECT: {
        json o = json::object();
        for (const auto field : e.get_object())
            o[std::string(field.key)] = fromDom(field.value);
        return o;
    }
    case simdjson::dom::element_type::STRING:
        return std::string(std::string_view(e.get_string()));
    case simdjson::dom::element_type::INT64:
        return std::int64_t(e.get_int64());
    case simdjson::dom::element_type::UINT64:
        return std::uint64_t(e.get_uint64());
    case simdjson::dom::element_type::DOUBLE:
        return double(e.get_double());
    case simdjson::dom::element_type::BOOL:
        return bool(e.get_bool());
    case simdjson::dom::element_type::NULL_VALUE:
        break;
    }
    return nullptr;
}

/// A knowledge document. simdjson reads it (the shipped tables, ~1 MB, were 84 of the 566
/// million instructions of a command's start-up through nlohmann's parser, 20 through simdjson);
/// a document it refuses is read again by nlohmann for its message, which names the line and
/// column of the fault in a user's rules file.
json parse(std::string_view text, const std::string& origin)
{
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!parser.parse(text.data(), text.size()).get(doc))
        return fromDom(doc);
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::exception& e) { // parse_error, and out_of_range for a number too big for a double
        throw KnowledgeError(origin + ": not valid JSON: " + e.what());
    }
}

void expectFormat(const json& doc, std::string_view format, const std::string& origin)
{
    if (!doc.is_object() || !doc.contains("format") || doc["format"] != format)
        throw KnowledgeError(origin + ": expected \"format\": \"" + std::string(format) + "\"");
}

std::string str(const json& o, const char* key, const std::string& where, bool required = false)
{
    if (!o.contains(key)) {
        if (required)
            throw KnowledgeError(where + ": missing field \"" + key + "\"");
        return {};
    }
    if (!o[key].is_string())
        throw KnowledgeError(where + ": field \"" + key + "\" must be a string");
    return o[key].get<std::string>();
}

std::vector<std::string> strings(const json& o, const char* key, const std::string& where)
{
    std::vector<std::string> out;
    if (!o.contains(key))
        return out;
    const auto& a = o[key];
    if (!a.is_array())
        throw KnowledgeError(where + ": field \"" + key + "\" must be a list of strings");
    for (const auto& v : a) {
        if (!v.is_string())
            throw KnowledgeError(where + ": field \"" + key + "\" must be a list of strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

bool isSpamWord(std::string_view w)
{
    return w == "yes" || w == "often" || w == "no" || w == "unknown";
}

bool isActionWord(std::string_view w)
{
    static constexpr std::string_view actions[]
        = {"suppress",       "fix_route",      "fix_auth",    "investigate_reputation",
           "confirm_policy", "review_content", "reduce_size", "slow_down",
           "retry_later",    "read_text",      "none"};
    return std::find(std::begin(actions), std::end(actions), w) != std::end(actions);
}

/// The fields a rule and a lexicon concept share: reason (a vocabulary.md word) and the optional
/// spam_related and action overrides.
void readVerdict(const json& o, Rule& r, const std::string& where)
{
    r.reason = str(o, "reason", where, true);
    if (!isKnownReason(r.reason))
        throw KnowledgeError(where + ": unknown reason \"" + r.reason + "\" (see vocabulary.md)");
    r.spamRelated = str(o, "spam_related", where);
    if (!r.spamRelated.empty() && !isSpamWord(r.spamRelated))
        throw KnowledgeError(where + ": spam_related must be yes, often, no or unknown");
    r.action = str(o, "action", where);
    if (!r.action.empty() && !isActionWord(r.action))
        throw KnowledgeError(where + ": unknown action \"" + r.action + "\"");
}

/// An optional integer "priority" (rules and lexicon concepts), else `fallback`.
int readPriority(const json& o, const std::string& where, int fallback)
{
    if (!o.contains("priority"))
        return fallback;
    if (!o["priority"].is_number_integer())
        throw KnowledgeError(where + ": field \"priority\" must be an integer");
    return o["priority"].get<int>();
}

std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw KnowledgeError(path.string() + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

std::shared_ptr<KnowledgeBase> KnowledgeBase::loadDefault()
{
    auto kb = std::make_shared<KnowledgeBase>();
    // The model's thread first: it reads its 2.7 MB while this one reads the tables (started
    // after them, it and the sets' compiles shared both cores while the first core had waited).
    // Embedded, static: the view outlives the thread.
    for (const auto& f : embeddedFiles())
        if (f.path == "model/replies-model.json")
            kb->startModel(f.content, "resources/" + std::string(f.path));
    for (const auto& f : embeddedFiles()) {
        const std::string origin = "resources/" + std::string(f.path);
        if (f.path == "codes.json")
            kb->setCodes(f.content, origin);
        else if (f.path == "blocklists.json")
            kb->setBlocklists(f.content, origin);
        else if (f.path == "providers.json")
            kb->setProviders(f.content, origin);
        else if (f.path == "reasons.json")
            kb->setReasons(f.content, origin);
        else if (f.path == "notices.json")
            kb->setNotices(f.content, origin);
        else if (f.path.starts_with("rules/"))
            kb->addRules(f.content, origin);
        else if (f.path.starts_with("lexicon/"))
            kb->addLexicon(f.content, origin);
    }
    for (auto& r : kb->m_rules)
        r.shipped = true;
    return kb;
}

std::filesystem::path KnowledgeBase::localRulesPath()
{
    return userRulesFile();
}

std::shared_ptr<KnowledgeBase> KnowledgeBase::loadWithOverrides(const std::vector<std::filesystem::path>& extraRules)
{
    auto kb = loadDefault();
    const auto local = localRulesPath();
    std::error_code ec;
    if (!local.empty() && std::filesystem::exists(local, ec))
        kb->addRulesFile(local);
    for (const auto& p : extraRules)
        kb->addRulesFile(p);
    return kb;
}

void KnowledgeBase::addRules(std::string_view text, const std::string& origin)
{
    const auto doc = parse(text, origin);
    expectFormat(doc, "bouncetriage-rules/1", origin);
    if (!doc.contains("rules") || !doc["rules"].is_array())
        throw KnowledgeError(origin + ": missing list \"rules\"");
    std::size_t index = 0;
    for (const auto& o : doc["rules"]) {
        const std::string at = origin + ": rule #" + std::to_string(++index);
        if (!o.is_object())
            throw KnowledgeError(at + ": must be an object");
        Rule r;
        r.id = str(o, "id", at, true);
        const std::string where = origin + ": rule \"" + r.id + "\"";
        readVerdict(o, r, where);
        r.patterns = strings(o, "patterns", where);
        r.codes = strings(o, "codes", where);
        r.unlessCodes = strings(o, "unless_codes", where);
        if (r.patterns.empty() && r.codes.empty())
            throw KnowledgeError(where + ": needs \"patterns\" or \"codes\"");
        r.provider = str(o, "provider", where);
        r.priority = readPriority(o, where, r.priority);
        r.bounceEmailReason = str(o, "bounce_email_reason", where);
        if (!r.bounceEmailReason.empty() && !isKnownReason(r.bounceEmailReason))
            throw KnowledgeError(where + ": unknown bounce_email_reason \"" + r.bounceEmailReason
                                 + "\" (see vocabulary.md)");
        r.explanation = str(o, "explanation", where);
        r.steps = strings(o, "steps", where);
        r.references = strings(o, "references", where);
        r.examples = strings(o, "examples", where);
        r.origin = origin;
        putRule(std::move(r));
    }
}

void KnowledgeBase::putRule(Rule r)
{
    // A later file's rule with the same id replaces the earlier one: local overrides.
    auto same = std::find_if(m_rules.begin(), m_rules.end(), [&](const Rule& x) { return x.id == r.id; });
    if (same != m_rules.end())
        *same = std::move(r);
    else
        m_rules.push_back(std::move(r));
}

namespace
{

/// The model document read, its faults as KnowledgeError (naming the file, like every other
/// knowledge file's).
std::shared_ptr<const ReplyModel> readModel(std::string_view text, const std::string& origin)
{
    try {
        return ReplyModel::fromJson(text, origin);
    } catch (const std::runtime_error& e) {
        throw KnowledgeError(e.what());
    }
}

} // namespace

void KnowledgeBase::setModel(std::string_view text, const std::string& origin)
{
    m_model = readModel(text, origin);
    m_pendingModel = {};
}

void KnowledgeBase::startModel(std::string_view text, const std::string& origin)
{
    m_model.reset();
    m_pendingModel = std::async(std::launch::async, [text, origin] { return readModel(text, origin); }).share();
}

const ReplyModel* KnowledgeBase::model() const
{
    return m_pendingModel.valid() ? m_pendingModel.get().get() : m_model.get();
}

void KnowledgeBase::addRulesFile(const std::filesystem::path& path)
{
    addRules(readFile(path), path.string());
}

void KnowledgeBase::addLexicon(std::string_view text, const std::string& origin)
{
    const auto doc = parse(text, origin);
    expectFormat(doc, "bouncetriage-lexicon/1", origin);
    const auto language = str(doc, "language", origin, true);
    // English markers say a reply is English; the other languages' say it may be theirs.
    auto& markers = language == "en" ? m_englishMarkers : m_lexiconMarkers;
    for (const auto& m : strings(doc, "markers", origin))
        if (auto folded = text::foldCase(m); std::find(markers.begin(), markers.end(), folded) == markers.end())
            markers.push_back(std::move(folded));
    if (language == "en")
        std::sort(m_englishMarkers.begin(), m_englishMarkers.end());
    for (const auto& w : strings(doc, "says_nothing", origin)) {
        if (w.empty() || w.find(' ') != std::string::npos)
            throw KnowledgeError(origin + ": \"says_nothing\" holds single words, not \"" + w + "\"");
        auto folded = text::foldCase(w);
        const auto at = std::lower_bound(m_saysNothing.begin(), m_saysNothing.end(), folded);
        if (at == m_saysNothing.end() || *at != folded)
            m_saysNothing.insert(at, std::move(folded));
    }
    if (!doc.contains("concepts") || !doc["concepts"].is_array())
        throw KnowledgeError(origin + ": missing list \"concepts\"");
    std::size_t index = 0;
    for (const auto& o : doc["concepts"]) {
        const std::string at = origin + ": concept #" + std::to_string(++index);
        if (!o.is_object())
            throw KnowledgeError(at + ": must be an object");
        Rule r;
        // Lexicon entries become rules named after their language, so evidence and rule lists
        // say which word list spoke ("lex.de.mailboxfull").
        r.id = "lex." + language + "." + str(o, "id", at, true);
        const std::string where = origin + ": concept \"" + r.id + "\"";
        readVerdict(o, r, where);
        r.patterns = strings(o, "phrases", where);
        if (r.patterns.empty())
            throw KnowledgeError(where + ": needs \"phrases\"");
        r.codes = strings(o, "codes", where);
        r.unlessCodes = strings(o, "unless_codes", where);
        r.priority = readPriority(o, where, 55);
        // The words say which reason; what to do about it is the reason's own text (reasons.json).
        r.examples = strings(o, "examples", where);
        if (r.examples.empty())
            throw KnowledgeError(where + ": needs \"examples\"");
        r.origin = origin;
        putRule(std::move(r));
    }
}

void KnowledgeBase::setCodes(std::string_view text, const std::string& origin)
{
    const auto doc = parse(text, origin);
    expectFormat(doc, "bouncetriage-codes/1", origin);
    m_codes.clear();
    m_codeMatchers.clear();
    m_basic.clear();
    m_classes.clear();
    m_subjects.clear();
    if (doc.contains("classes"))
        for (const auto& [k, v] : doc["classes"].items())
            m_classes.emplace_back(k, v.get<std::string>());
    if (doc.contains("subjects"))
        for (const auto& [k, v] : doc["subjects"].items())
            m_subjects.emplace_back(k, v.get<std::string>());
    if (doc.contains("basic"))
        for (const auto& [k, v] : doc["basic"].items())
            m_basic.emplace_back(std::stoi(k), v.get<std::string>());
    std::size_t index = 0;
    for (const auto& o : doc.value("details", json::array())) {
        const std::string at = origin + ": details #" + std::to_string(++index);
        CodeInfo c;
        c.code = str(o, "code", at, true);
        c.name = str(o, "name", at);
        c.meaning = str(o, "meaning", at);
        c.reason = str(o, "reason", at);
        if (!c.reason.empty() && !isKnownReason(c.reason))
            throw KnowledgeError(at + " (" + c.code + "): unknown reason \"" + c.reason + "\"");
        c.weight = o.value("weight", 0);
        const bool anyClass = c.code.front() == 'X' || c.code.front() == 'x';
        const bool isRange = c.code.find("..") != std::string::npos || c.code.ends_with("*");
        m_codeMatchers.emplace_back(CodePattern(c.code), (anyClass ? 0 : 2) + (isRange ? 0 : 1));
        m_codes.push_back(std::move(c));
    }
}

void KnowledgeBase::setBlocklists(std::string_view text, const std::string& origin)
{
    const auto doc = parse(text, origin);
    expectFormat(doc, "bouncetriage-blocklists/1", origin);
    m_blocklists.clear();
    std::size_t index = 0;
    for (const auto& o : doc.value("blocklists", json::array())) {
        const std::string at = origin + ": blocklist #" + std::to_string(++index);
        BlocklistInfo b;
        b.name = str(o, "name", at, true);
        b.zones = strings(o, "zones", at);
        b.patterns = strings(o, "patterns", at);
        b.lists = str(o, "lists", at);
        b.delistUrl = str(o, "delist_url", at);
        b.listing = o.value("listing", true);
        b.zoneKind = str(o, "zone_kind", at);
        if (!b.zoneKind.empty() && b.zoneKind != "ip" && b.zoneKind != "domain")
            throw KnowledgeError(at + " (" + b.name + "): zone_kind must be \"ip\" or \"domain\"");
        b.checked = o.value("checked", false);
        // RFC 5782 section 5: IP lists list 127.0.0.2, domain lists the name "test".
        b.testEntry = str(o, "test", at);
        if (b.testEntry.empty() && !b.zoneKind.empty())
            b.testEntry = b.zoneKind == "ip" ? "127.0.0.2" : "test";
        if (b.checked && (b.zones.empty() || b.zoneKind.empty()))
            throw KnowledgeError(at + " (" + b.name + "): a checked list needs zones and zone_kind");
        for (const auto& c : o.value("codes", json::array())) {
            BlocklistCode code;
            code.code = str(c, "code", at, true);
            code.meaning = str(c, "meaning", at);
            code.listing = c.value("listing", true);
            b.codes.push_back(std::move(code));
        }
        m_blocklists.push_back(std::move(b));
    }
}

void KnowledgeBase::setProviders(std::string_view text, const std::string& origin)
{
    const auto doc = parse(text, origin);
    expectFormat(doc, "bouncetriage-providers/1", origin);
    m_providers.clear();
    std::size_t index = 0;
    for (const auto& o : doc.value("providers", json::array())) {
        const std::string at = origin + ": provider #" + std::to_string(++index);
        ProviderInfo p;
        p.name = str(o, "name", at, true);
        p.domains = strings(o, "domains", at);
        p.hostSuffixes = strings(o, "host_suffixes", at);
        p.patterns = strings(o, "patterns", at);
        p.operatorName = str(o, "operator", at, false);
        m_providers.push_back(std::move(p));
    }
}

void KnowledgeBase::setNotices(std::string_view text, const std::string& origin)
{
    const auto doc = parse(text, origin);
    expectFormat(doc, "bouncetriage-notices/1", origin);
    auto lower = [&](const char* key) {
        auto list = strings(doc, key, origin);
        for (auto& w : list) {
            w = text::toLower(w);
            if (w.empty())
                throw KnowledgeError(origin + ": \"" + key + "\" holds an empty phrase");
        }
        return list;
    };
    m_noticePhrases = lower("phrases");
    m_failureWords = lower("failure_words");
}

bool KnowledgeBase::saysNothing(std::string_view reply) const
{
    if (m_saysNothing.empty())
        return false;
    auto wordChar
        = [](char c) { return text::isAlpha(c) || c == '\'' || c == '-' || static_cast<unsigned char>(c) >= 0x80; };
    auto separator = [](char c) {
        return text::isSpace(c) || c == '<' || c == '>' || c == '[' || c == ']' || c == '(' || c == ')' || c == ','
            || c == ';' || c == '"';
    };
    std::string word;
    std::size_t i = 0;
    while (i < reply.size()) {
        if (separator(reply[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < reply.size() && !separator(reply[end]))
            ++end;
        auto token = reply.substr(i, end - i);
        i = end;
        // A URL names a page that says what the words do not.
        if (token.find("://") != std::string_view::npos || text::startsWithNoCase(token, "www."))
            return false;
        while (!token.empty() && !wordChar(token.back()) && !text::isDigit(token.back()))
            token.remove_suffix(1); // closing punctuation
        while (!token.empty() && !wordChar(token.front()) && !text::isDigit(token.front()))
            token.remove_prefix(1);
        while (!token.empty() && (token.front() == '\'' || token.front() == '-'))
            token.remove_prefix(1);
        if (token.empty())
            continue;
        // A code, an address, an IP address, a host name, an id: they name the case, not a cause.
        if (std::any_of(token.begin(), token.end(), [](char c) { return text::isDigit(c) || c == '@' || c == '.'; }))
            continue;
        // A word joined by other signs ("mailbox:full", "message/partial") still says something.
        if (!std::all_of(token.begin(), token.end(), wordChar))
            return false;
        word = text::foldCase(token);
        if (!std::binary_search(m_saysNothing.begin(), m_saysNothing.end(), word))
            return false;
    }
    return true;
}

bool KnowledgeBase::isNotice(std::string_view paragraph) const
{
    auto has = [&](const std::vector<std::string>& words) {
        return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
            return text::findNoCase(paragraph, w) != std::string_view::npos;
        });
    };
    if (!has(m_noticePhrases) || has(m_failureWords))
        return false;
    // A reply code: three digits from 200 to 599 standing alone ("550 ", "451-").
    auto wordChar = [](char c) { return text::isDigit(c) || text::isAlpha(c); };
    for (std::size_t i = 0; i + 3 <= paragraph.size(); ++i) {
        if (paragraph[i] < '2' || paragraph[i] > '5' || !text::isDigit(paragraph[i + 1])
            || !text::isDigit(paragraph[i + 2]))
            continue;
        if ((i == 0 || !wordChar(paragraph[i - 1])) && (i + 3 == paragraph.size() || !wordChar(paragraph[i + 3])))
            return false;
    }
    return true;
}

void KnowledgeBase::setReasons(std::string_view text, const std::string& origin)
{
    const auto doc = parse(text, origin);
    expectFormat(doc, "bouncetriage-reasons/1", origin);
    m_reasons.clear();
    const auto reasons = doc.value("reasons", json::object());
    for (const auto& [k, o] : reasons.items()) {
        const std::string at = origin + ": reason \"" + k + "\"";
        if (!isKnownReason(k))
            throw KnowledgeError(at + ": not a vocabulary.md reason");
        ReasonInfo r;
        r.reason = k;
        r.title = str(o, "title", at, true);
        r.explanation = str(o, "explanation", at, true);
        r.steps = strings(o, "steps", at);
        r.derivedStatus = str(o, "derived_status", at);
        m_reasons.push_back(std::move(r));
    }
}

const ReasonInfo* KnowledgeBase::reasonInfo(std::string_view reason) const
{
    for (const auto& r : m_reasons)
        if (r.reason == reason)
            return &r;
    return nullptr;
}

std::string KnowledgeBase::basicMeaning(int basic) const
{
    for (const auto& [code, meaning] : m_basic)
        if (code == basic)
            return meaning;
    return {};
}

namespace
{

/// A decimal number filling all of s, as std::stoi read the range bounds before (no sign).
std::optional<int> number(std::string_view s)
{
    int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

} // namespace

const CodeInfo* KnowledgeBase::codeInfo(std::string_view enhanced) const
{
    // Most specific first: an exact class-bound code, then a range, then the X.s.d entry.
    const CodeInfo* best = nullptr;
    int bestRank = -1;
    for (std::size_t i = 0; i < m_codes.size(); ++i) {
        const auto& [pattern, rank] = m_codeMatchers[i];
        if (rank > bestRank && pattern.matches(std::nullopt, enhanced)) {
            best = &m_codes[i];
            bestRank = rank;
        }
    }
    return best;
}

std::string KnowledgeBase::classMeaning(char cls) const
{
    for (const auto& [k, v] : m_classes)
        if (k.size() == 1 && k.front() == cls)
            return v;
    return {};
}

std::string KnowledgeBase::subjectMeaning(std::string_view subject) const
{
    for (const auto& [k, v] : m_subjects)
        if (k == subject)
            return v;
    return {};
}

bool matchesCodePattern(std::string_view pattern, std::optional<int> basic, std::string_view enhanced)
{
    return CodePattern(pattern).matches(basic, enhanced);
}

CodePattern::CodePattern(std::string_view p)
{
    if (p.find('.') == std::string_view::npos) {
        if (p.size() != 3)
            return;
        for (std::size_t i = 0; i < 3; ++i)
            m_digits[i] = p[i] == 'x' || p[i] == 'X' ? 0 : p[i];
        m_kind = Kind::Basic;
        return;
    }
    m_class = p.front() == 'X' || p.front() == 'x' ? 0 : p.front();
    p.remove_prefix(1);
    if (p.ends_with("*")) {
        m_rest = p.substr(0, p.size() - 1);
        m_kind = Kind::Prefix;
        return;
    }
    const auto range = p.find("..");
    if (range == std::string_view::npos) {
        m_rest = p;
        m_kind = Kind::Exact;
        return;
    }
    const auto lastDot = range == 0 ? std::string_view::npos : p.rfind('.', range - 1);
    if (lastDot == std::string_view::npos)
        return;
    const auto lo = number(p.substr(lastDot + 1, range - lastDot - 1));
    const auto hi = number(p.substr(range + 2));
    if (!lo || !hi)
        return;
    m_rest = p.substr(0, lastDot);
    m_lo = *lo;
    m_hi = *hi;
    m_kind = Kind::Range;
}

bool CodePattern::matches(std::optional<int> basic, std::string_view enhanced) const
{
    switch (m_kind) {
    case Kind::Never:
        return false;
    case Kind::Basic: {
        // Digit by digit without formatting the number.
        if (!basic || *basic < 100 || *basic > 999)
            return false;
        const char b[3] = {static_cast<char>('0' + *basic / 100), static_cast<char>('0' + *basic / 10 % 10),
                           static_cast<char>('0' + *basic % 10)};
        for (std::size_t i = 0; i < 3; ++i)
            if (m_digits[i] != 0 && m_digits[i] != b[i])
                return false;
        return true;
    }
    default:
        break;
    }
    if (enhanced.empty() || (m_class != 0 && enhanced.front() != m_class))
        return false;
    const auto rest = enhanced.substr(1);
    if (m_kind == Kind::Exact)
        return rest == m_rest;
    if (m_kind == Kind::Prefix)
        return rest.starts_with(m_rest);
    const auto codeDot = rest.rfind('.');
    if (codeDot == std::string_view::npos || rest.substr(0, codeDot) != m_rest)
        return false;
    const auto v = number(rest.substr(codeDot + 1));
    return v && *v >= m_lo && *v <= m_hi;
}

} // namespace bt
