// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

/// One server answer found in a pasted text or a bounce: codes, exact text, where it came from.
struct Reply {
    std::optional<int> basicCode; ///< 550, 421 … (nullopt when the text has none)
    std::string enhancedCode; ///< "5.1.1" (empty when the text has none)
    std::string text; ///< the exact reply text, continuation lines joined by one space
    std::string remoteHost; ///< "mx.example.com" from Postfix/Exim wording, else empty
    std::string remoteIp; ///< "192.0.2.1" from Postfix/Exim wording, else empty
    std::string smtpStage; ///< "RCPT TO", "DATA", "MAIL FROM", "end of data" … else empty
    std::string recipient; ///< address the reply is about, when the text names one
    std::size_t sourceOffset = 0; ///< byte offset of the reply within the input text
    /// The reply of a bounce email's report, not one pasted alone. Bounce emails' reasons follow
    /// the conventions the corpus is labelled by (Sisimai's), so there (Classifier):
    /// - the statistical model does not overrule a vague rule: it is trained on labelled replies,
    ///   not on the corpus, and there it changed 4 of the corpus's 465 reasons, all from right to
    ///   wrong;
    /// - a rule that states a `bounce_email_reason` gives that reason instead of its own (words
    ///   Sisimai reads otherwise than the contract's owners read a pasted reply).
    bool fromBounceEmail = false;

    /// '2', '4' or '5' from the enhanced code, else from the basic code; '0' when there is neither.
    char statusClass() const
    {
        if (!enhancedCode.empty())
            return enhancedCode.front();
        return basicCode ? static_cast<char>('0' + *basicCode / 100) : '0';
    }
};

/// A highlighted piece of the reply text that led to the verdict.
struct Evidence {
    std::size_t start = 0; ///< byte offset into Diagnosis::replyText (UTF-8)
    std::size_t end = 0; ///< one past the last byte
    std::string rule; ///< rule id, or "code:5.1.1" when the enhanced code decided
};

/// A blocklist named in the reply, with what it lists and where to ask for removal.
struct BlocklistHit {
    std::string name; ///< "Spamhaus ZEN"
    std::string zone; ///< "zen.spamhaus.org" (empty for lists without a DNS zone)
    std::string lists; ///< what the list contains, in plain words
    std::string delistUrl; ///< lookup / removal page
    bool listing = true; ///< false: the text shows a failed lookup, not a listing
};

/// What the classifier concludes about one reply, in the words of vocabulary.md.
struct Diagnosis {
    std::optional<int> basicCode;
    std::string enhancedCode;
    std::string codeMeaning; ///< plain meaning of the enhanced (or basic) code
    std::string replyText;
    std::string remoteHost;
    std::string remoteIp;
    std::string smtpStage;
    std::string reason = "undefined"; ///< vocabulary.md reason word
    std::string family = "unknown"; ///< vocabulary.md family word
    std::string spamRelated = "unknown"; ///< yes / often / no / unknown
    std::string action = "read_text"; ///< vocabulary.md action word
    /// What decided the reason: "rule" (a rule's or lexicon's words, or a cited blocklist),
    /// "code" (the enhanced or basic status code alone), "model" (the statistical model: no
    /// rule spoke, or it overruled a vague one) or "none" (nothing recognised).
    std::string confidence = "none";
    /// When the model overruled a vague rule or a code alone: the reason they gave, else empty.
    std::string overruled;
    /// Another reading nearly as strong as the verdict: a rule of another family whose words weigh
    /// within a few points of the deciding rule's (Classifier: kCloseReading). On replies the
    /// rules had not seen, such verdicts were right no more often than the other reading, so both
    /// are shown. Empty when the verdict has no close rival.
    std::string alternative;
    Evidence alternativeEvidence; ///< the rival rule and its words (start == end: matched by code)
    bool hardBounce = false; ///< permanent failure that should suppress the address
    bool permanent = false; ///< class 5 (or a 5xx basic code)
    std::vector<Evidence> evidence;
    std::vector<std::string> ruleIds; ///< every rule that matched, winner first
    std::vector<BlocklistHit> blocklists;
    std::string provider; ///< mailbox provider or gateway hinted by the text, else empty
    std::string explanation;
    std::vector<std::string> steps; ///< next steps, cheapest first
    std::vector<std::string> references; ///< URLs of the winning rule
};

} // namespace bt
