// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

class ReplyModel;

/// Raised when a rules or table file cannot be used; what() names the file and the rule/field.
class KnowledgeError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/// Default explanation and steps for a reason, used when only the status code decided.
struct ReasonInfo {
    std::string reason;
    std::string title; ///< short human phrase ("the mailbox does not exist")
    std::string explanation;
    std::vector<std::string> steps;
    std::string derivedStatus; ///< "X.0.911": the status when a bounce carries no code
};

/// One classification rule as written in resources/rules/*.json.
struct Rule {
    std::string id;
    std::string reason;
    std::vector<std::string> patterns; ///< RE2 syntax, matched case-insensitively
    std::vector<std::string> codes; ///< "550", "5xx", "5.7.26", "X.1.1", "5.7.*", "5.7.606..649"
    /// Codes that take the rule back, in the same forms: a more specific code names another
    /// subject ("501 5.1.1 bad address" is an unknown mailbox, not the 501's syntax error).
    std::vector<std::string> unlessCodes;
    std::string provider; ///< scope: applies only when this provider is hinted
    int priority = 50; ///< higher wins
    std::string spamRelated; ///< override, else the family default
    std::string action; ///< override, else the family default
    /// The reason these words get in a bounce email's report (Reply::fromBounceEmail), where the
    /// conventions bounce emails are labelled by (Sisimai's, which ../shared/corpus follows) read
    /// them otherwise than the contract's owners read a pasted reply; empty: `reason` there too.
    std::string bounceEmailReason;
    std::string explanation;
    std::vector<std::string> steps;
    std::vector<std::string> references;
    std::vector<std::string> examples; ///< replies that must yield this rule's reason
    std::string origin; ///< file the rule was loaded from
    bool shipped = false; ///< from the resources built into the program (loadDefault), not a user's file
};

/// Plain meaning of an enhanced status code detail ("X.1.1") and the reason it implies.
struct CodeInfo {
    std::string code; ///< "X.1.1" or "5.7.606..649" style
    std::string name;
    std::string meaning;
    std::string reason; ///< implied reason, empty when the code alone proves nothing
    int weight = 0; ///< how strongly the code alone decides (compared to rule priority)
};

/// One answer a DNS blocklist gives and what it means ("127.0.0.2" or a range "127.0.0.4-127.0.0.7").
struct BlocklistCode {
    std::string code;
    std::string meaning;
    bool listing = true; ///< false: the answer means "query refused / error", not a listing
};

struct BlocklistInfo {
    std::string name;
    std::vector<std::string> zones; ///< DNS zones ("zen.spamhaus.org"); may be empty
    std::vector<std::string> patterns; ///< RE2 patterns that cite this list in a reply
    std::string lists;
    std::string delistUrl;
    bool listing = true; ///< false for return codes that mean "lookup failed", not "listed"
    std::string zoneKind; ///< "ip" (reversed octets + zone) or "domain" (name + zone); empty: no zone
    bool checked = false; ///< queried by the online check (public, free, alive, not covered by another)
    /// The entry the list keeps listed for testing (RFC 5782 section 5): an IP ("127.0.0.2") for IP
    /// lists, a name ("dbltest.com", "test") for domain lists. The check asks it beside each query:
    /// a resolver that does not list it gives answers that cannot be trusted.
    std::string testEntry;
    std::vector<BlocklistCode> codes; ///< return codes and their meanings
};

struct ProviderInfo {
    std::string name; ///< "Gmail", "Microsoft 365 / Outlook.com" …
    std::vector<std::string> domains; ///< consumer recipient domains
    std::vector<std::string> hostSuffixes; ///< MX / remote-MTA host name suffixes
    std::vector<std::string> patterns; ///< RE2 patterns in reply text ("gsmtp", "protection.outlook.com")
    /// Whose servers take this brand's mail ("Yahoo" for AOL and Verizon), empty for its own:
    /// events group by the operator, whose servers answered; the domain column keeps the brand.
    std::string operatorName;
};

/// A code constraint read once: the classifier tests every coded rule's codes and unless-codes
/// against every reply, and reading the pattern's text each time was 7 % of a diagnosis
/// (callgrind, bench_diagnose). matchesCodePattern reads a pattern's text through it, so the two
/// cannot differ.
class CodePattern
{
public:
    explicit CodePattern(std::string_view pattern);
    bool matches(std::optional<int> basic, std::string_view enhanced) const;

private:
    enum class Kind : unsigned char { Never, Basic, Exact, Prefix, Range };
    Kind m_kind = Kind::Never;
    char m_class = 0; ///< the enhanced code's class digit; 0: any class ("X.1.1")
    std::array<char, 3> m_digits {}; ///< Basic: each digit, or 0 for an "x"
    std::string m_rest; ///< Exact: after the class ".1.1"; Prefix: before the "*"; Range: before the last dot
    int m_lo = 0, m_hi = 0; ///< Range: the detail's bounds
};

/// All knowledge the classifier uses, loaded from resources/ (embedded at build time) plus
/// optional local files that override rules with the same id.
class KnowledgeBase
{
public:
    /// The rules and tables shipped in resources/, compiled into the library.
    static std::shared_ptr<KnowledgeBase> loadDefault();
    /// The shipped knowledge, then the user's local rules file (localRulesPath()) if it exists,
    /// then each of `extraRules` in order: later rules replace earlier ones with the same id.
    static std::shared_ptr<KnowledgeBase> loadWithOverrides(const std::vector<std::filesystem::path>& extraRules = {});
    /// $XDG_CONFIG_HOME/bouncetriage/rules.json (or ~/.config/…): the user's local rules.
    static std::filesystem::path localRulesPath();

    /// Adds or replaces rules from a JSON rules document; origin names it in errors.
    void addRules(std::string_view json, const std::string& origin);
    /// Adds or replaces rules from a file (a user's local overrides).
    void addRulesFile(const std::filesystem::path& path);
    /// Adds the cause words of one language (resources/lexicon/*.json): each concept becomes a
    /// rule "lex.<language>.<id>" whose explanation and steps are its reason's (reasons.json).
    void addLexicon(std::string_view json, const std::string& origin);

    void setCodes(std::string_view json, const std::string& origin);
    void setBlocklists(std::string_view json, const std::string& origin);
    void setProviders(std::string_view json, const std::string& origin);
    void setReasons(std::string_view json, const std::string& origin);
    /// What gateways and clients add to any message (resources/notices.json).
    void setNotices(std::string_view json, const std::string& origin);
    /// The statistical fallback (resources/model/replies-model.json); throws KnowledgeError.
    void setModel(std::string_view json, const std::string& origin);
    /// nullptr when no model is loaded: the classifier then answers from rules and codes only.
    /// The shipped model is read on a thread of its own while the rules load and compile (a
    /// sixth of every command's start-up); the first call waits for it.
    const ReplyModel* model() const;

    const std::vector<Rule>& rules() const { return m_rules; }
    const std::vector<CodeInfo>& codes() const { return m_codes; }
    const std::vector<BlocklistInfo>& blocklists() const { return m_blocklists; }
    const std::vector<ProviderInfo>& providers() const { return m_providers; }
    /// ASCII words of the non-English lexicons ("benutzer", "inconnu"): a reply holding one may
    /// be in that language even without a non-ASCII letter.
    const std::vector<std::string>& lexiconMarkers() const { return m_lexiconMarkers; }
    /// English function words ("the", "your", "been"), folded and sorted: a reply holding two of
    /// them is English, and one the English words leave unexplained is then not read with the
    /// Latin-script lexicons unless it holds a letter beyond ASCII or one of their markers.
    const std::vector<std::string>& englishMarkers() const { return m_englishMarkers; }
    /// True when every word of `reply` is one the lexicons list as naming no cause ("says_nothing":
    /// "message", "refused", "delivery", "failed", "server", "not" …), once its codes, addresses,
    /// IP addresses, host names and numbers are set aside: "554 Message refused", "550 Delivery
    /// error". A URL or a word joined by other signs says something. Such a reply says nothing,
    /// however a statistical reading of its words leans.
    bool saysNothing(std::string_view reply) const;
    /// True when `paragraph` is a gateway's or client's notice (a banner, a footer, a
    /// disclaimer; resources/notices.json), not words about a failure: it holds a notice phrase,
    /// and no reply code or failure word.
    bool isNotice(std::string_view paragraph) const;
    /// Default texts for a reason; nullptr when the table has none.
    const ReasonInfo* reasonInfo(std::string_view reason) const;

    /// Meaning of a basic code ("550") in plain words, empty if unknown.
    std::string basicMeaning(int basic) const;
    /// Meaning of an enhanced code, most specific entry first; nullptr when none.
    const CodeInfo* codeInfo(std::string_view enhanced) const;
    /// Words for the class ("5" → "Permanent failure") and subject ("7" → "Security or policy").
    std::string classMeaning(char cls) const;
    std::string subjectMeaning(std::string_view subject) const;

private:
    /// Adds a rule, or replaces the one with the same id (a later file overrides).
    void putRule(Rule r);

    std::vector<Rule> m_rules;
    std::vector<CodeInfo> m_codes;
    /// m_codes' patterns read once, with their rank (see codeInfo): codeInfo runs for every code
    /// a classifier keys at start-up, and reading each pattern there cost 5 % of a start-up.
    std::vector<std::pair<CodePattern, int>> m_codeMatchers;
    std::vector<std::pair<int, std::string>> m_basic;
    std::vector<std::pair<std::string, std::string>> m_classes;
    std::vector<std::pair<std::string, std::string>> m_subjects;
    std::vector<BlocklistInfo> m_blocklists;
    std::vector<ProviderInfo> m_providers;
    std::vector<ReasonInfo> m_reasons;
    /// Reads static text (the embedded model) on a thread of its own; model() waits for it.
    void startModel(std::string_view json, const std::string& origin);

    std::shared_ptr<const ReplyModel> m_model;
    std::shared_future<std::shared_ptr<const ReplyModel>> m_pendingModel;
    std::vector<std::string> m_lexiconMarkers;
    std::vector<std::string> m_englishMarkers;
    std::vector<std::string> m_saysNothing; ///< folded case, sorted
    std::vector<std::string> m_noticePhrases; ///< lower case
    std::vector<std::string> m_failureWords; ///< lower case
};

/// True when a rule's code constraint ("550", "5xx", "5.7.*", "X.1.1", "5.7.606..649") fits.
bool matchesCodePattern(std::string_view pattern, std::optional<int> basic, std::string_view enhanced);

} // namespace bt
