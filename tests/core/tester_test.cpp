// SPDX-License-Identifier: MIT
// The message tester (core/tester.*) against a real DNS server: Debian's unbound, started on
// 127.0.0.1 on a free port (tests/core/dnsserver.h), serving keys this file generates with
// OpenSSL (RSA 2048, 1024 and 512 bits, Ed25519), SPF, DMARC and PTR records. Messages are signed
// here by a small DKIM signer of the test's own (its canonicalisation written apart from the
// core's, so a shared mistake cannot make both agree). No mocks.
#include "dnsserver.h"
#include "tester.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/wait.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace
{

struct CommandRun {
    int exitCode = -1;
    std::string out;
};

/// Runs the CLI through the shell, stderr with stdout. Kept here rather than taken from
/// testsupport.h, which brings the workspace's SQL helpers this test has no use for.
CommandRun shell(const std::string& command)
{
    CommandRun r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p))
        r.out += buf;
    const int status = p ? ::pclose(p) : -1;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string b64(const std::string& bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()));
    out.resize(std::size_t(n));
    return out;
}

std::string sha256(const std::string& data)
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char*>(md), len);
}

Key rsaKey(unsigned bits)
{
    return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t(bits)));
}

Key edKey()
{
    return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

/// p= of a key: SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519 (RFC 8463).
std::string publicKeyText(EVP_PKEY* k)
{
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519) {
        std::string raw(32, '\0');
        std::size_t len = raw.size();
        EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char*>(raw.data()), &len);
        return b64(raw);
    }
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(k, &der);
    std::string out(reinterpret_cast<char*>(der), std::size_t(n));
    OPENSSL_free(der);
    return b64(out);
}

/// A TXT record as unbound local data: strings of at most 255 bytes.
std::string txt(const std::string& name, const std::string& value)
{
    std::string s = "    local-data: '" + name + ". 300 IN TXT";
    for (std::size_t i = 0; i < value.size(); i += 200)
        s += " \"" + value.substr(i, 200) + "\"";
    return s + "'\n";
}

// ---- the test's own DKIM signer ----

std::string collapse(const std::string& s)
{
    std::string out;
    bool ws = false;
    for (char c : s) {
        if (c == ' ' || c == '\t') {
            ws = true;
            continue;
        }
        if (ws)
            out += ' ';
        ws = false;
        out += c;
    }
    return out; // a trailing run is dropped with ws still set
}

std::string relaxedHeader(const std::string& name, const std::string& value)
{
    std::string lower;
    for (char c : name)
        lower += char(std::tolower(static_cast<unsigned char>(c)));
    std::string v;
    for (char c : value)
        if (c != '\r' && c != '\n')
            v += c;
    v = collapse(v);
    if (!v.empty() && v.front() == ' ')
        v.erase(0, 1);
    return lower + ":" + v + "\r\n";
}

std::vector<std::string> lines(const std::string& body)
{
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < body.size()) {
        const auto e = body.find("\r\n", pos);
        out.push_back(body.substr(pos, e == std::string::npos ? std::string::npos : e - pos));
        pos = e == std::string::npos ? body.size() : e + 2;
    }
    return out;
}

std::string bodyFor(const std::string& body, bool relaxed)
{
    auto ls = lines(body);
    if (relaxed)
        for (auto& l : ls)
            l = collapse(l);
    while (!ls.empty() && ls.back().empty())
        ls.pop_back();
    std::string out;
    for (const auto& l : ls)
        out += l + "\r\n";
    if (out.empty() && !relaxed)
        out = "\r\n";
    return out;
}

struct Signing {
    EVP_PKEY* key = nullptr;
    std::string domain = "good.test", selector = "s2048";
    bool relaxed = true;
    std::vector<std::string> headers {"From", "To", "Subject", "Date", "Message-ID"};
    long expires = 0; ///< x=, 0 = none
    long length = -1; ///< l=, -1 = none
};

/// `headers` (name, value) in order and a body → the message with a DKIM-Signature on top.
std::string sign(const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                 const Signing& s)
{
    const bool ed = EVP_PKEY_get_base_id(s.key) == EVP_PKEY_ED25519;
    std::string canonBody = bodyFor(body, s.relaxed);
    if (s.length >= 0)
        canonBody.resize(std::size_t(s.length));
    std::string h;
    for (const auto& n : s.headers)
        h += (h.empty() ? "" : ":") + n;
    const long now = long(std::time(nullptr));
    // Folded on purpose: the signature header is hashed as written (simple) or unfolded (relaxed).
    std::string value = " v=1; a=" + std::string(ed ? "ed25519-sha256" : "rsa-sha256")
        + "; c=" + (s.relaxed ? "relaxed/relaxed" : "simple/simple") + "; d=" + s.domain + "; s=" + s.selector
        + ";\r\n\tt=" + std::to_string(now) + (s.expires ? "; x=" + std::to_string(s.expires) : "")
        + (s.length >= 0 ? "; l=" + std::to_string(s.length) : "") + "; h=" + h + ";\r\n\tbh=" + b64(sha256(canonBody))
        + "; b=";
    std::string data;
    for (const auto& n : s.headers)
        for (auto it = headers.rbegin(); it != headers.rend(); ++it)
            if (strcasecmp(it->first.c_str(), n.c_str()) == 0) {
                data += s.relaxed ? relaxedHeader(it->first, it->second) : it->first + ":" + it->second + "\r\n";
                break;
            }
    std::string self = s.relaxed ? relaxedHeader("DKIM-Signature", value) : "DKIM-Signature:" + value + "\r\n";
    data += self.substr(0, self.size() - 2);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const std::string signedData = ed ? sha256(data) : data;
    EVP_DigestSignInit(ctx.get(), nullptr, ed ? nullptr : EVP_sha256(), nullptr, s.key);
    std::size_t len = 0;
    EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(signedData.data()),
                   signedData.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(signedData.data()), signedData.size());
    sig.resize(len);
    std::string out = "DKIM-Signature:" + value + b64(sig) + "\r\n";
    for (const auto& [n, v] : headers)
        out += n + ":" + v + "\r\n";
    return out + "\r\n" + body;
}

// ---- the zone ----

struct Keys {
    Key rsa2048, rsa1024, rsa512, ed;
};

Keys& keys()
{
    static Keys k {rsaKey(2048), rsaKey(1024), rsaKey(512), edKey()};
    return k;
}

testdns::DnsServer& server()
{
    static testdns::DnsServer s;
    return s;
}

std::string zone()
{
    std::string z = R"conf(
    local-zone: "test." static
    local-zone: "113.0.203.in-addr.arpa." static
    local-zone: "100.51.198.in-addr.arpa." static
    local-zone: "zen.spamhaus.org." static
    local-zone: "dbl.spamhaus.org." static
    local-zone: "." refuse
    local-data: 'good.test. 300 IN TXT "v=spf1 ip4:203.0.113.0/24 -all"'
    local-data: '_dmarc.good.test. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:d@good.test"'
    local-data: 'strict.test. 300 IN TXT "v=spf1 -all"'
    local-data: 'mail.strict.test. 300 IN TXT "v=spf1 ip4:203.0.113.0/24 -all"'
    local-data: '_dmarc.strict.test. 300 IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s"'
    local-data: 'mail.good.test. 300 IN A 203.0.113.5'
    local-data: '5.113.0.203.in-addr.arpa. 300 IN PTR mail.good.test.'
    local-data: '2.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2'
    local-data: 'dbltest.com.dbl.spamhaus.org. 300 IN A 127.0.1.2'
    local-data: 'bad.test.dbl.spamhaus.org. 300 IN A 127.0.1.2'
    local-data: 'revoked._domainkey.good.test. 300 IN TXT "v=DKIM1; k=rsa; p="'
)conf";
    auto& k = keys();
    z += txt("s2048._domainkey.good.test", "v=DKIM1; k=rsa; p=" + publicKeyText(k.rsa2048.get()));
    z += txt("s1._domainkey.mail.good.test", "v=DKIM1; k=rsa; p=" + publicKeyText(k.rsa2048.get()));
    z += txt("s1._domainkey.mail.strict.test", "v=DKIM1; k=rsa; p=" + publicKeyText(k.rsa2048.get()));
    z += txt("s1024._domainkey.good.test", "v=DKIM1; k=rsa; p=" + publicKeyText(k.rsa1024.get()));
    z += txt("s512._domainkey.good.test", "v=DKIM1; k=rsa; p=" + publicKeyText(k.rsa512.get()));
    if (k.ed)
        z += txt("ed._domainkey.good.test", "v=DKIM1; k=ed25519; p=" + publicKeyText(k.ed.get()));
    return z;
}

class Tester : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        if (server().pid == 0 && server().error.empty())
            server().start(zone());
    }
    void SetUp() override
    {
        if (!server().error.empty())
            FAIL() << server().error;
        ASSERT_TRUE(keys().rsa2048 && keys().rsa1024 && keys().rsa512) << "OpenSSL made no RSA keys";
    }

    static bt::TesterOptions options()
    {
        bt::TesterOptions o;
        o.dnsServer = server().address();
        o.timeoutMs = 2000;
        o.deadlineMs = 10000;
        o.blocklistZones = {"zen.spamhaus.org", "dbl.spamhaus.org"};
        return o;
    }
};

/// A message as Gmail's "Show original" gives it: the receiver's hops on top, then the sender's.
std::string received(const std::string& ip = "203.0.113.5", const std::string& helo = "mail.good.test")
{
    return "Received: by 2002:a05:6402:1234::1 with SMTP id z1csp1;\r\n        Sat, 5 Dec 2026 05:00:01 -0800\r\n"
           "Received: from "
        + helo + " (" + helo + ". [" + ip
        + "])\r\n        by mx.google.com with ESMTPS id x12si1\r\n        for <alice@gmail.test>\r\n"
          "        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n        Sat, 05 Dec 2026 "
          "05:00:00 -0800\r\n"
          "Received: from [10.0.0.4] (unknown [10.0.0.4])\r\n        by "
        + helo + " (Postfix) with ESMTPSA id 1A2B;\r\n        Sat, 05 Dec 2026 13:59:59 +0100\r\n";
}

std::vector<std::pair<std::string, std::string>> headers(const std::string& from = "News <news@good.test>")
{
    return {{"From", " " + from},
            {"To", " alice@gmail.test"},
            {"Subject", "  Your   December\r\n  offers "},
            {"Date", " Sat, 05 Dec 2026 13:59:58 +0100"},
            {"Message-ID", " <20261205.1@good.test>"},
            {"List-Unsubscribe", " <https://good.test/u?id=1>, <mailto:u@good.test>"},
            {"List-Unsubscribe-Post", " List-Unsubscribe=One-Click"}};
}

const std::string kBody = "Hello Alice,  \r\n\r\nOur offers:\thttps://www.good.test/offers\r\n\r\n\r\n";

std::string envelope(const std::string& returnPath = "bounce@good.test", const std::string& ip = "203.0.113.5")
{
    return received(ip) + "Return-Path: <" + returnPath + ">\r\n";
}

const bt::TesterCheck& find(const bt::TesterReport& r, const std::string& id, std::size_t nth = 0)
{
    for (const auto& c : r.checks)
        if (c.id == id && nth-- == 0)
            return c;
    static bt::TesterCheck missing;
    missing = {};
    missing.id = "(missing " + id + ")";
    return missing;
}

std::string dump(const bt::TesterReport& r)
{
    return bt::toText(r);
}

Signing withKey(EVP_PKEY* key, const std::string& selector)
{
    Signing s;
    s.key = key;
    s.selector = selector;
    s.headers.push_back("List-Unsubscribe");
    s.headers.push_back("List-Unsubscribe-Post");
    return s;
}

} // namespace

TEST_F(Tester, AMessageSignedHereVerifiesAndPassesSpfDmarcAndPtr)
{
    const std::string msg = envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048"));
    const auto r = bt::testMessage(msg, options());
    EXPECT_EQ(r.ip, "203.0.113.5") << dump(r);
    EXPECT_EQ(r.fromDomain, "good.test");
    const auto& dkim = find(r, "dkim");
    EXPECT_EQ(dkim.status, "pass") << dump(r);
    EXPECT_EQ(dkim.domain, "good.test");
    EXPECT_EQ(dkim.selector, "s2048");
    EXPECT_NE(dkim.evidence.find("s2048._domainkey.good.test"), std::string::npos) << dkim.evidence;
    EXPECT_NE(dkim.evidence.find(server().address()), std::string::npos) << "the DNS answer says where it came from";
    EXPECT_EQ(find(r, "spf").status, "pass") << dump(r);
    EXPECT_NE(find(r, "spf").evidence.find("v=spf1 ip4:203.0.113.0/24 -all"), std::string::npos);
    EXPECT_EQ(find(r, "dmarc").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "alignment").status, "pass");
    EXPECT_EQ(find(r, "ptr").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "list_unsubscribe").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "blocklists").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "message_id").status, "pass");
    EXPECT_EQ(find(r, "date").status, "pass");
    EXPECT_EQ(find(r, "tls").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "arc").status, "none");
}

TEST_F(Tester, SimpleCanonicalisationAndEd25519AndLVerify)
{
    auto s = withKey(keys().rsa2048.get(), "s2048");
    s.relaxed = false;
    auto r = bt::testMessage(envelope() + sign(headers(), kBody, s), options());
    EXPECT_EQ(find(r, "dkim").status, "pass") << dump(r);

    if (!keys().ed)
        GTEST_SKIP() << "this OpenSSL makes no Ed25519 keys";
    r = bt::testMessage(envelope() + sign(headers(), kBody, withKey(keys().ed.get(), "ed")), options());
    EXPECT_EQ(find(r, "dkim").status, "pass") << dump(r);
    EXPECT_NE(find(r, "dkim").detail.find("ed25519"), std::string::npos);

    // l= signs a prefix: text appended after signing still verifies, with a warning.
    auto l = withKey(keys().rsa2048.get(), "s2048");
    l.length = 20;
    r = bt::testMessage(envelope() + sign(headers(), kBody, l) + "Appended by someone else\r\n", options());
    EXPECT_EQ(find(r, "dkim").status, "warn") << dump(r);
    EXPECT_NE(find(r, "dkim").detail.find("unsigned"), std::string::npos) << find(r, "dkim").detail;
}

TEST_F(Tester, OneAlteredBodyByteFailsTheBodyHash)
{
    std::string msg = envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048"));
    const auto at = msg.find("Our offers");
    ASSERT_NE(at, std::string::npos);
    msg[at] = 'o';
    const auto r = bt::testMessage(msg, options());
    const auto& dkim = find(r, "dkim");
    EXPECT_EQ(dkim.status, "fail") << dump(r);
    EXPECT_NE(dkim.detail.find("body hash"), std::string::npos) << dkim.detail;
    // DMARC still passes, through the aligned SPF pass alone.
    EXPECT_EQ(find(r, "dmarc").status, "pass") << dump(r);
    EXPECT_NE(find(r, "dmarc").detail.find("through SPF"), std::string::npos) << find(r, "dmarc").detail;
    EXPECT_EQ(find(r, "dmarc").detail.find("DKIM"), std::string::npos) << find(r, "dmarc").detail;
}

TEST_F(Tester, AnAlteredSignedHeaderFailsTheSignature)
{
    std::string msg = envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048"));
    const auto at = msg.find("December");
    ASSERT_NE(at, std::string::npos);
    msg.replace(at, 8, "November");
    const auto r = bt::testMessage(msg, options());
    const auto& dkim = find(r, "dkim");
    EXPECT_EQ(dkim.status, "fail") << dump(r);
    EXPECT_NE(dkim.detail.find("signature did not verify"), std::string::npos) << dkim.detail;
    EXPECT_EQ(dkim.detail.find("body hash"), std::string::npos) << dkim.detail;

    // Whitespace inside a header is not a change under relaxed canonicalisation.
    std::string refolded = envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048"));
    refolded.replace(refolded.find("Your   December"), 15, "Your December");
    EXPECT_EQ(find(bt::testMessage(refolded, options()), "dkim").status, "pass");
}

TEST_F(Tester, ExpiredSignatureRevokedKeyAndShortKeysEachHaveTheirVerdict)
{
    auto expired = withKey(keys().rsa2048.get(), "s2048");
    expired.expires = long(std::time(nullptr)) - 3600;
    auto r = bt::testMessage(envelope() + sign(headers(), kBody, expired), options());
    EXPECT_EQ(find(r, "dkim").status, "fail");
    EXPECT_NE(find(r, "dkim").detail.find("expired"), std::string::npos) << find(r, "dkim").detail;

    // The key that signed is not the published one, but the published one is withdrawn.
    r = bt::testMessage(envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "revoked")), options());
    EXPECT_EQ(find(r, "dkim").status, "fail");
    EXPECT_NE(find(r, "dkim").detail.find("revoked"), std::string::npos) << find(r, "dkim").detail;

    r = bt::testMessage(envelope() + sign(headers(), kBody, withKey(keys().rsa512.get(), "s512")), options());
    EXPECT_EQ(find(r, "dkim").status, "fail") << dump(r);
    EXPECT_NE(find(r, "dkim").detail.find("512-bit"), std::string::npos) << find(r, "dkim").detail;
    EXPECT_NE(find(r, "dkim").detail.find("verifies"), std::string::npos) << "the signature itself is sound";

    r = bt::testMessage(envelope() + sign(headers(), kBody, withKey(keys().rsa1024.get(), "s1024")), options());
    EXPECT_EQ(find(r, "dkim").status, "warn") << dump(r);
    EXPECT_NE(find(r, "dkim").detail.find("1024-bit"), std::string::npos) << find(r, "dkim").detail;
    EXPECT_EQ(find(r, "dmarc").status, "pass") << "a 1024-bit signature still counts: " << dump(r);

    // A selector with no key at all.
    r = bt::testMessage(envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "nokey")), options());
    EXPECT_EQ(find(r, "dkim").status, "fail");
    EXPECT_NE(find(r, "dkim").detail.find("No DKIM key"), std::string::npos) << find(r, "dkim").detail;
}

TEST_F(Tester, HeadersOnlyAndShowOriginalPastesAreRead)
{
    const std::string msg = envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048"));
    // The headers alone: the signature over them still verifies; the body hash cannot be checked.
    const auto r = bt::testMessage(msg.substr(0, msg.find("\r\n\r\n") + 2), options());
    EXPECT_EQ(find(r, "dkim").status, "warn") << dump(r);
    EXPECT_NE(find(r, "dkim").detail.find("no body"), std::string::npos) << find(r, "dkim").detail;
    EXPECT_EQ(r.ip, "203.0.113.5");

    // A whole "Show original" page copied: a summary above the message, LF line ends.
    std::string page = "Original Message\n\nMessage ID\t<20261205.1@good.test>\nCreated at:\tSat, Dec 5, 2026 at "
                       "1:59 PM (Delivered after 2 seconds)\nSPF:\tPASS with IP 203.0.113.5 Learn more\n"
                       "Download Original\tCopy to clipboard\n\n";
    for (char c : msg)
        if (c != '\r')
            page += c;
    const auto p = bt::testMessage(page, options());
    EXPECT_EQ(find(p, "dkim").status, "pass") << dump(p);
    EXPECT_EQ(p.fromDomain, "good.test");
}

TEST_F(Tester, SpfFollowsTheReceivedChainIpAsTheZoneSays)
{
    // 198.51.100.9 is outside good.test's ip4:203.0.113.0/24 and has no PTR.
    const std::string msg
        = envelope("bounce@good.test", "198.51.100.9") + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048"));
    const auto r = bt::testMessage(msg, options());
    EXPECT_EQ(r.ip, "198.51.100.9");
    EXPECT_EQ(find(r, "spf").status, "fail") << dump(r);
    EXPECT_NE(find(r, "spf").detail.find("198.51.100.9"), std::string::npos);
    EXPECT_EQ(find(r, "ptr").status, "fail") << dump(r);
    EXPECT_EQ(find(r, "dmarc").status, "pass") << "DKIM still aligns: " << dump(r);
    // The sender's own submission hop (10.0.0.4) is not the connecting IP.
    EXPECT_EQ(r.ipHeader.find("10.0.0.4"), std::string::npos) << r.ipHeader;
}

TEST_F(Tester, AlignmentRelaxedAndStrict)
{
    // d=mail.good.test under From good.test: aligned relaxed, and good.test's DMARC is relaxed.
    auto sub = withKey(keys().rsa2048.get(), "s1");
    sub.domain = "mail.good.test";
    auto r = bt::testMessage(envelope("bounce@esp.test") + sign(headers(), kBody, sub), options());
    EXPECT_EQ(find(r, "dkim").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "alignment").status, "pass") << dump(r);
    EXPECT_NE(find(r, "alignment").detail.find("relaxed only"), std::string::npos) << find(r, "alignment").detail;
    EXPECT_EQ(find(r, "dmarc").status, "pass") << dump(r);

    // strict.test asks adkim=s aspf=s: d=mail.strict.test and a mail.strict.test Return-Path whose
    // SPF passes are both aligned relaxed only, so DMARC fails and the policy is said.
    sub.domain = "mail.strict.test";
    r = bt::testMessage(envelope("bounce@mail.strict.test") + sign(headers("News <news@strict.test>"), kBody, sub),
                        options());
    EXPECT_EQ(find(r, "dkim").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "spf").status, "pass") << dump(r);
    EXPECT_EQ(find(r, "alignment").status, "fail") << dump(r);
    EXPECT_NE(find(r, "alignment").detail.find("strict"), std::string::npos);
    EXPECT_EQ(find(r, "dmarc").status, "fail") << dump(r);
    EXPECT_NE(find(r, "dmarc").detail.find("p=quarantine"), std::string::npos) << find(r, "dmarc").detail;
}

TEST_F(Tester, ListUnsubscribePostIsDetected)
{
    auto r = bt::testMessage(envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048")), options());
    EXPECT_EQ(find(r, "list_unsubscribe").status, "pass") << dump(r);
    EXPECT_NE(find(r, "list_unsubscribe").detail.find("One-Click"), std::string::npos);

    // Without the Post header: bulk mail without one-click.
    auto h = headers();
    h.pop_back();
    r = bt::testMessage(envelope() + sign(h, kBody, withKey(keys().rsa2048.get(), "s2048")), options());
    EXPECT_EQ(find(r, "list_unsubscribe").status, "warn") << dump(r);
    EXPECT_NE(find(r, "list_unsubscribe").detail.find("without List-Unsubscribe-Post"), std::string::npos);

    // Both headers there but not signed: RFC 8058 wants them covered by DKIM.
    Signing s;
    s.key = keys().rsa2048.get();
    r = bt::testMessage(envelope() + sign(headers(), kBody, s), options());
    EXPECT_EQ(find(r, "list_unsubscribe").status, "warn") << dump(r);
    EXPECT_NE(find(r, "list_unsubscribe").detail.find("DKIM"), std::string::npos);
}

TEST_F(Tester, LinkDomainsAreCheckedOnDomainBlocklists)
{
    const std::string body = "Click http://www.bad.test/win and <a href=\"https://good.test/\">here</a>\r\n";
    const auto r
        = bt::testMessage(envelope() + sign(headers(), body, withKey(keys().rsa2048.get(), "s2048")), options());
    const auto& b = find(r, "blocklists");
    EXPECT_EQ(b.status, "fail") << dump(r);
    EXPECT_NE(b.detail.find("bad.test"), std::string::npos) << b.detail;
    EXPECT_NE(b.evidence.find("bad.test.dbl.spamhaus.org"), std::string::npos) << b.evidence;
}

TEST_F(Tester, DnsTroubleIsAnErrorNeverAFail)
{
    auto o = options();
    o.dnsServer = server().blackhole();
    o.timeoutMs = 200;
    o.deadlineMs = 1500;
    const auto r = bt::testMessage(envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048")), o);
    for (const char* id : {"dkim", "spf", "dmarc", "ptr"})
        EXPECT_EQ(find(r, id).status, "error") << id << "\n" << dump(r);
    // What needs no DNS still answers.
    EXPECT_EQ(find(r, "message_id").status, "pass");
    EXPECT_EQ(find(r, "alignment").status, "pass");
    EXPECT_EQ(r.ip, "203.0.113.5");
}

TEST_F(Tester, OfflinePartsReadTheHeadersAlone)
{
    bt::TesterOptions o;
    o.offline = true;
    o.now = 1'764'000'000; // 2025-11-24
    const std::string outlook
        = "Received: from AM0PR01MB1234.eurprd01.prod.outlook.com (2603:10a6:208:1::1) by "
          "AM0PR01MB5678.eurprd01.prod.outlook.com with HTTPS; Mon, 24 Nov 2025 10:00:02 +0000\r\n"
          "Received: from mta.sender.test (198.51.100.77) by AM0PR01MB1234.eurprd01.prod.outlook.com\r\n"
          " (10.167.1.1) with Microsoft SMTP Server id 15.20.1; Mon, 24 Nov 2025 10:00:01 +0000\r\n"
          "Return-Path: bounce@sender.test\r\n"
          "From: a@sender.test, b@other.test\r\n"
          "Date: Mon, 24 Nov 2025 17:00:00 +0000\r\n"
          "Message-ID: 1234@sender.test\r\n"
          "Precedence: bulk\r\n";
    const auto r = bt::testMessage(outlook, o);
    EXPECT_EQ(r.ip, "198.51.100.77") << dump(r);
    EXPECT_EQ(find(r, "tls").status, "warn") << "Microsoft's hop names no TLS: " << dump(r);
    EXPECT_EQ(find(r, "message_id").status, "fail") << dump(r);
    EXPECT_NE(find(r, "message_id").detail.find("< >"), std::string::npos);
    EXPECT_EQ(find(r, "date").status, "fail") << "an hour after o.now is in the future: " << dump(r);
    EXPECT_EQ(find(r, "from").status, "fail");
    EXPECT_EQ(find(r, "list_unsubscribe").status, "warn") << "Precedence: bulk without List-Unsubscribe";
    EXPECT_EQ(find(r, "dkim").status, "fail") << "no signature at all";
    EXPECT_EQ(find(r, "spf").status, "none") << "offline";
    EXPECT_NE(find(r, "spf").detail.find("without DNS"), std::string::npos);

    EXPECT_THROW(bt::testMessage("just a line of text, no headers\n", o), bt::TesterInputError);
}

TEST_F(Tester, ArcChainStructure)
{
    bt::TesterOptions o;
    o.offline = true;
    auto set = [](int i, const std::string& cv) {
        const std::string n = std::to_string(i);
        return "ARC-Seal: i=" + n + "; a=rsa-sha256; cv=" + cv + "; d=fwd.test; s=a; t=1; b=AAAA\r\n"
            + "ARC-Message-Signature: i=" + n
            + "; a=rsa-sha256; c=relaxed/relaxed; d=fwd.test; s=a; h=from; bh=AA; b=AA\r\n"
            + "ARC-Authentication-Results: i=" + n + "; fwd.test; dkim=pass header.d=good.test\r\n";
    };
    const std::string rest = "From: a@good.test\r\nSubject: x\r\n\r\nbody\r\n";
    auto arc = [&](const std::string& headers) { return find(bt::testMessage(headers + rest, o), "arc"); };
    EXPECT_EQ(arc(set(2, "pass") + set(1, "none")).status, "pass") << arc(set(2, "pass") + set(1, "none")).detail;
    EXPECT_EQ(arc(set(2, "fail") + set(1, "none")).status, "fail");
    EXPECT_NE(arc(set(2, "fail") + set(1, "none")).detail.find("cv=fail"), std::string::npos);
    EXPECT_EQ(arc(set(2, "pass")).status, "fail") << "instance 1 missing";
    std::string noAms = set(1, "none");
    noAms.erase(noAms.find("ARC-Message-Signature"),
                noAms.find("ARC-Authentication-Results") - noAms.find("ARC-Message-Signature"));
    EXPECT_EQ(arc(noAms).status, "fail");
    EXPECT_EQ(arc("").status, "none");
}

TEST_F(Tester, CliJsonHasTheDocumentedShape)
{
    const auto path = std::filesystem::temp_directory_path() / ("bt-tester-" + std::to_string(::getpid()) + ".eml");
    {
        std::ofstream(path, std::ios::binary)
            << envelope() + sign(headers(), kBody, withKey(keys().rsa2048.get(), "s2048"));
    }
    const std::string cli = BT_CLI;
    const std::string common = " --dns-server " + server().address() + " --blocklist zen.spamhaus.org ";
    auto run = shell(cli + " test-message --json" + common + "'" + path.string() + "'");
    ASSERT_EQ(run.exitCode, 0) << run.out;
    const auto j = nlohmann::json::parse(run.out);
    EXPECT_EQ(j["ip"], "203.0.113.5");
    EXPECT_EQ(j["from_domain"], "good.test");
    ASSERT_TRUE(j["checks"].is_array());
    std::map<std::string, std::string> status;
    for (const auto& c : j["checks"]) {
        for (const char* k : {"id", "status", "detail", "evidence"})
            EXPECT_TRUE(c.contains(k) && c[k].is_string()) << k << " in " << c.dump();
        const std::string st = c["status"];
        EXPECT_TRUE(st == "pass" || st == "warn" || st == "fail" || st == "none" || st == "error") << st;
        if (c["id"] == "dkim") {
            EXPECT_EQ(c["domain"], "good.test");
            EXPECT_EQ(c["selector"], "s2048");
        }
        status[c["id"]] = st;
    }
    for (const char* id : {"spf", "dkim", "arc", "dmarc", "alignment", "ptr", "blocklists", "list_unsubscribe",
                           "message_id", "date", "tls"})
        EXPECT_TRUE(status.count(id)) << id;
    EXPECT_EQ(status["dkim"], "pass") << run.out;
    EXPECT_EQ(status["spf"], "pass") << run.out;

    run = shell(cli + " test-message" + common + "'" + path.string() + "'");
    EXPECT_EQ(run.exitCode, 0);
    EXPECT_NE(run.out.find("[pass]  dkim good.test/s2048"), std::string::npos) << run.out;

    std::ofstream(path, std::ios::binary) << "no header here\n";
    run = shell(cli + " test-message --offline '" + path.string() + "'");
    EXPECT_EQ(run.exitCode, 2) << run.out;
    EXPECT_NE(run.out.find(path.string()), std::string::npos) << "the error names the file: " << run.out;
    std::ofstream(path, std::ios::binary) << "\n\n";
    EXPECT_EQ(shell(cli + " test-message --offline '" + path.string() + "'").exitCode, 1);
    EXPECT_EQ(shell(cli + " test-message --offline").exitCode, 64);
    std::filesystem::remove(path);
}
