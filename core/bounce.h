// SPDX-License-Identifier: MIT
#pragma once

#include "classifier.h"
#include "diagnosis.h"
#include "email.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

/// One recipient as a bounce format reports it, before diagnosis.
struct BounceRecipient {
    std::string address; ///< Final-Recipient (or the address the text names)
    std::string originalAddress; ///< Original-Recipient, when different
    std::string action; ///< failed, delayed, delivered, relayed, expanded (RFC 3464 words)
    std::string status; ///< enhanced status code the report states, e.g. 5.1.1
    std::string reply; ///< the remote server's reply (Diagnostic-Code or the text's quote)
    std::string remoteMta;
    std::string lastAttempt; ///< RFC 5322 date as written
    std::string command; ///< SMTP stage named by the text (RCPT TO, DATA …)
    std::string reasonHint; ///< a reason the format itself states (e.g. expired when retries ran out)
    /// The text states the failure class (Exim's "retry timeout exceeded", Gmail's "temporary
    /// failure"): it decides the class of a status derived from the reason.
    std::optional<bool> temporary;
    std::string context; ///< the text block about this recipient: classified when the reply says nothing
};

/// What one format module found in one message.
struct BounceReport {
    std::string format; ///< "rfc3464", "qmail", "exim" …
    std::string kind = "bounce"; ///< bounce, delayed, delivered, feedback, auto_reply
    std::string reportingMta;
    std::string arrivalDate;
    std::string envelopeSender;
    std::string feedbackType; ///< ARF Feedback-Type
    /// The report comes from a content-filtering gateway (McAfee, m-FILTER, MailFoundry…): its
    /// "no such user" is the gateway's filter speaking, so it reads as filtered, not userunknown.
    bool filteringGateway = false;
    std::vector<BounceRecipient> recipients;
};

/// Headers of the returned original message that triage needs.
struct OriginalMessage {
    std::string from, fromDomain, returnPath, to, subject, messageId, date;
    std::string dkimDomain, dkimSelector, authenticationResults;
    std::string arcAuthenticationResults; ///< ARC-Authentication-Results (RFC 8617) of the first ARC set seen
    std::string listId, listUnsubscribe, feedbackId, campaign; ///< campaign: first of the common campaign headers
};

/// One diagnosed recipient of one message: the unit the CLI prints and the workspace stores.
struct BounceRecord {
    std::string format;
    std::string kind;
    std::string recipient;
    /// The address the sender mailed, when the bounce names another it was expanded or forwarded
    /// to as the failed one (Original-Recipient, "(expanded from <alias>)"); empty otherwise.
    std::string originalRecipient;
    std::string dsnAction;
    std::optional<int> basicCode;
    std::string enhancedCode;
    bool statusDerived = false; ///< no code in the message: the status follows from the reason
    std::string replyText;
    Diagnosis diagnosis;
    std::string reasonHint; ///< the reason the format stated, if any (kept for re-diagnosis)
    bool filteringGateway = false;
    std::string remoteMta;
    std::string reportingMta;
    std::string timestamp; ///< ISO 8601 UTC
    std::string envelopeSender;
    std::string feedbackType;
    std::string subject; ///< of the bounce message itself
    OriginalMessage original;
};

/// Why a message gave no records: not a bounce, or unreadable.
struct BounceOutcome {
    std::vector<BounceRecord> records;
    std::string kind; ///< bounce, delayed, delivered, feedback, auto_reply, not_bounce, unreadable
    std::string error; ///< set when records is empty
    /// A format module that failed on this message (a bug, reported rather than ending the
    /// import): "sendmail: basic_string_view::substr …". The other modules still ran.
    std::vector<std::string> warnings;
};

/// One input as a person hands it over (`bouncetriage-cli diagnose`, the Diagnose view): a whole
/// bounce email is read exactly as `parse` and an import read it, anything else is one reply.
struct InputDiagnosis {
    bool email = false; ///< the input starts with a header block: it was read as an email
    BounceOutcome outcome; ///< what the bounce reader made of it (when email)
    /// The input's primary reply, diagnosed, when it gave no records (not an email, or an email
    /// the reader found no bounced recipient in).
    Diagnosis diagnosis;
    std::size_t replyOffset = 0; ///< byte offset of that reply in the input (for highlights)
};

/// True when the text starts like a whole e-mail message: at least two header lines, one of
/// them a field every message has (From, Subject, Received, Date …), before the first blank
/// line; an mbox "From " line may come first.
bool looksLikeEmail(std::string_view text);

/// Reads one message (bytes of an .eml or one mbox entry) into diagnosed records.
class BounceReader
{
public:
    explicit BounceReader(std::shared_ptr<const Classifier> classifier);
    /// A reader that tries only the named format modules (formats::registry() names: "arf",
    /// "auto_reply", "rfc3464", "postfix" … "generic"), in the registry's order. It answers "what
    /// would we make of this bounce if its MTA were one no module knows" (only the reports that
    /// say what they are and the generic reader): how a new MTA's bounces will fare, and the
    /// floor the generic reader is held to on the corpus. Unknown names are an error.
    BounceReader(std::shared_ptr<const Classifier> classifier, const std::vector<std::string>& formats);
    BounceOutcome read(std::string_view bytes) const;
    /// The same for an already parsed email.
    BounceOutcome read(const Email& email) const;
    /// The one way the CLI's diagnose and the Diagnose view read what they are given: a whole
    /// email through read(), so each recipient gets the same codes and verdict as in `parse`
    /// and in a workspace; a reply line or an NDR text through the classifier.
    InputDiagnosis diagnoseInput(std::string_view input) const;

private:
    std::shared_ptr<const Classifier> m_classifier;
    std::vector<std::size_t> m_formats; ///< indexes into formats::registry(), in its order; empty: all
};

/// What is known around a reply beyond its words.
struct ReplyContext {
    std::string_view stage; ///< SMTP stage: "RCPT TO", "DATA", "MAIL FROM", "HELO" …
    std::string_view hint; ///< a reason the source itself states
    bool filteringGateway = false; ///< see BounceReport::filteringGateway
    std::string_view status; ///< the enhanced status the report gives beside the reply
};

/// What the context says beyond the reply's words: a reason the source states, the SMTP stage
/// ("user unknown" after DATA is a filter), a filtering gateway. Used when reading and again
/// when a workspace is re-diagnosed, so both give the same verdict.
void refineByContext(const Classifier& classifier, Diagnosis& d, const ReplyContext& context);

/// `text` with what is pasted or added around a reply blanked: the paragraphs gateways and mail
/// clients add to any message (KnowledgeBase::isNotice: "CAUTION: This email originated from
/// outside of the organization", "This email has been scanned for viruses") and the header block
/// of a forwarded message ("-----Original Message-----" / "From: …" / "Sent: …" / "Subject: …").
/// Every byte of them but line breaks becomes a space, so that offsets into the text stay valid.
/// They are not the mail system's words about a failure. A text written on one line with its
/// breaks escaped (a TSV cell, a log: text::hasEscapedBreaks) is read as the lines it stands for,
/// the escapes turned into breaks length for length.
std::string blankAsides(std::string_view text, const KnowledgeBase& kb);

/// An ESP's event or export record pasted as JSON (SES, SendGrid, Mailgun, Postmark, SparkPost,
/// Mandrill, Brevo): the text with everything but the receiving server's reply blanked (the
/// first of its reply fields that holds a reply code, else the first with words; escapes written
/// as spaces and their character), so that offsets stay. nullopt when the text is no JSON object
/// or array, or names none of those fields.
std::optional<std::string> jsonEventReply(std::string_view text);

/// The diagnosis of a reply found in pasted text (diagnose, the Diagnose view): its words, then
/// the SMTP stage it names ("… (in reply to MAIL FROM command)"), read as refineByContext reads a
/// bounce's, so that the same words give the same verdict either way.
Diagnosis diagnosePasted(const Classifier& classifier, Reply reply,
                         Classifier::Texts texts = Classifier::Texts::Include);

} // namespace bt
