// SPDX-License-Identifier: MIT
// The DNS checks against a real resolver: unbound from Debian, started by this file on
// 127.0.0.1 on a free high port with its own configuration in a temporary folder, as the
// current user. Its local data is the test zone; "dead.test" is delegated to a UDP socket this
// file opens and never reads (a server that never answers). No DNS mocks.
#include "alignment.h"
#include "checks.h"
#include "dns.h"
#include "dnsserver.h"
#include "knowledge.h"
#include "providerlookup.h"
#include "spf.h"
#include "testsupport.h"
#include "workspace.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <spawn.h>
#include <sstream>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace
{

using namespace std::chrono_literals;

// The test zone, as unbound local data. %BLACKHOLE% becomes the port where nothing answers.
const char* kZone = R"conf(
    local-zone: "test." static
    local-zone: "dead.test." transparent
    local-zone: "zen.spamhaus.org." static
    local-zone: "dbl.spamhaus.org." static
    local-zone: "100.51.198.in-addr.arpa." static
    local-zone: "2.0.192.in-addr.arpa." static
    local-zone: "." refuse

    # SPF: two strings in one record, a, mx, include of a record with ip4/ip6 and ?all.
    local-data: 'good.test. 300 IN TXT "v=spf1 mx a:out.good.test " "include:_spf.partner.test -all"'
    local-data: 'good.test. 300 IN TXT "google-site-verification=abc"'
    local-data: 'good.test. 300 IN MX 20 mx2.good.test.'
    local-data: 'good.test. 300 IN MX 10 mx1.good.test.'
    local-data: 'good.test. 300 IN MX 5 mx0.good.test.'
    local-data: 'mx0.good.test. 300 IN A 192.0.2.5'
    local-data: 'mx1.good.test. 300 IN A 192.0.2.10'
    local-data: 'mx2.good.test. 300 IN A 192.0.2.20'
    local-data: 'out.good.test. 300 IN A 198.51.100.7'
    local-data: '_spf.partner.test. 300 IN TXT "v=spf1 ip4:203.0.113.0/24 ip6:2001:db8:1::/48 ?all"'
    local-data: '_dmarc.good.test. 300 IN TXT "v=DMARC1; p=reject; sp=quarantine; pct=50; rua=mailto:d@good.test,mailto:x@y.test; adkim=s"'
    local-data: 's1._domainkey.good.test. 300 IN TXT "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp/km79q/4vnp1fLYmQ58QkTU72M+JZGbRNFW/8PDrcmAPvSRCQDOU4jQDnyoAMoVcuKSG237MjvsWawP2mrSYkAoZ/H5PJwPFS6UN1CwhL4WNarLSamUo4wCsRcyyFKOst6V3PAxY9ihA7Z+tLnPrmwIgMSm" "WjlhwXsJT0/ezdRweRI+NDpiMDOu/EoiwciV/djGbXECZc8pJDU7kle6Or7opHJwCywK4CLBwbVIbkVDoE+4MGAqYg/Frkt3u0djWxvhVUINnXaruQ1vFIv1WQr1aOxix9gj0/XF3NoyxKpggGfczw9d26SuWmfNJ7KI1wuaHgedL0gCZllhuXyAlQIDAQAB"'
    local-data: 'ed._domainkey.good.test. 300 IN TXT "v=DKIM1; k=ed25519; p=r0WAEC/r2/YGrOGUAwHjdyyOlQUp2fLBMRLi3Jn00xM="'
    local-data: 'old._domainkey.good.test. 300 IN TXT "v=DKIM1; p="'
    local-data: '10.2.0.192.in-addr.arpa. 300 IN PTR mx1.good.test.'
    local-data: '7.100.51.198.in-addr.arpa. 300 IN PTR out.good.test.'
    local-data: '9.100.51.198.in-addr.arpa. 300 IN PTR fake.good.test.'

    # redirect; redirect's %{d} is the target domain (so its mx is good.test's).
    local-data: 'redir.test. 300 IN TXT "v=spf1 redirect=good.test"'
    # macros: %{ir}.%{v} and %{l}; case-insensitive names and terms.
    local-data: 'macro.test. 300 IN TXT "v=spf1 exists:%{ir}.%{v}._spf.macro.test exists:%{l}.u.macro.test -all"'
    local-data: '7.100.51.198.in-addr._spf.macro.test. 300 IN A 127.0.0.2'
    local-data: 'alice.u.macro.test. 300 IN A 127.0.0.2'
    local-data: 'ptr.test. 300 IN TXT "v=spf1 ptr:good.test -all"'
    local-data: 'upper.test. 300 IN TXT "V=SPF1 IP4:198.51.100.0/24 -ALL"'
    # control characters in records (ESC ] 0 ; … BEL retitles a terminal): text output escapes them
    local-data: 'esc.test. 300 IN TXT "v=spf1 \027]0;pwned\007 -all"'
    local-data: '_dmarc.esc.test. 300 IN TXT "v=DMARC1; p=\027[2J; rua=mailto:\027]0;x\007@esc.test"'
    # failures that are answers
    local-data: 'loop.test. 300 IN TXT "v=spf1 include:loop2.test -all"'
    local-data: 'loop2.test. 300 IN TXT "v=spf1 include:loop.test -all"'
    local-data: 'many.test. 300 IN TXT "v=spf1 a:h1.many.test a:h2.many.test a:h3.many.test a:h4.many.test a:h5.many.test a:h6.many.test a:h7.many.test a:h8.many.test a:h9.many.test a:h10.many.test a:h11.many.test -all"'
    local-data: 'h1.many.test. 300 IN A 192.0.2.201'
    local-data: 'h2.many.test. 300 IN A 192.0.2.201'
    local-data: 'h3.many.test. 300 IN A 192.0.2.201'
    local-data: 'h4.many.test. 300 IN A 192.0.2.201'
    local-data: 'h5.many.test. 300 IN A 192.0.2.201'
    local-data: 'h6.many.test. 300 IN A 192.0.2.201'
    local-data: 'h7.many.test. 300 IN A 192.0.2.201'
    local-data: 'h8.many.test. 300 IN A 192.0.2.201'
    local-data: 'h9.many.test. 300 IN A 192.0.2.201'
    local-data: 'h10.many.test. 300 IN A 192.0.2.201'
    local-data: 'h11.many.test. 300 IN A 192.0.2.201'
    local-data: 'void.test. 300 IN TXT "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test -all"'
    local-data: 'two.test. 300 IN TXT "v=spf1 -all"'
    local-data: 'two.test. 300 IN TXT "v=spf1 +all"'
    local-data: 'none.test. 300 IN TXT "hello world"'
    local-data: 'syntax.test. 300 IN TXT "v=spf1 ip4:1.2.3 -all"'
    local-data: 'incnone.test. 300 IN TXT "v=spf1 include:none.test -all"'
    local-data: 'deadinc.test. 300 IN TXT "v=spf1 include:x.dead.test -all"'
    local-data: 'big.test. 300 IN TXT "v=spf1 ip4:10.0.0.0/24 ip4:10.0.1.0/24 ip4:10.0.2.0/24 ip4:10.0.3.0/24 ip4:10.0.4.0/24 ip4:10.0.5.0/24 ip4:10.0.6.0/24 ip4:10.0.7.0/24 ip4:10.0.8.0/24 ip4:10.0.9.0/24 ip4:10.1.0.0/24 ip4:10.1.1.0/24 i" "p4:10.1.2.0/24 ip4:10.1.3.0/24 ip4:10.1.4.0/24 ip4:10.1.5.0/24 ip4:10.1.6.0/24 ip4:10.1.7.0/24 ip4:10.1.8.0/24 ip4:10.1.9.0/24 ip4:10.2.0.0/24 ip4:10.2.1.0/24 ip4:10.2.2.0/24 ip4:10.2.3.0/24 ip4:10.2." "4.0/24 ip4:10.2.5.0/24 ip4:10.2.6.0/24 ip4:10.2.7.0/24 ip4:10.2.8.0/24 ip4:10.2.9.0/24 ip4:10.3.0.0/24 ip4:10.3.1.0/24 ip4:10.3.2.0/24 ip4:10.3.3.0/24 ip4:10.3.4.0/24 ip4:10.3.5.0/24 ip4:10.3.6.0/24 i" "p4:10.3.7.0/24 ip4:10.3.8.0/24 ip4:10.3.9.0/24 ip4:10.4.0.0/24 ip4:10.4.1.0/24 ip4:10.4.2.0/24 ip4:10.4.3.0/24 ip4:10.4.4.0/24 ip4:198.51.100.0/24 -all"'
    # DMARC at the organisational domain only; a null MX.
    local-data: 'sub.org.test. 300 IN TXT "v=spf1 -all"'
    local-data: '_dmarc.org.test. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:agg@org.test"'
    local-data: 'nullmx.test. 300 IN MX 0 .'
    # Recipient domains whose provider only their MX tells (bt::lookUpProviders): a Microsoft 365
    # tenant, a Google Workspace one (its MX 5 is its own relay), an AOL brand domain (counted
    # under Yahoo, AOL's operator), and one with its own mail servers.
    local-data: 'tenant.test. 300 IN MX 0 tenant-test.mail.protection.outlook.com.'
    local-data: 'gtenant.test. 120 IN MX 5 relay.gtenant.test.'
    local-data: 'gtenant.test. 120 IN MX 10 aspmx.l.google.com.'
    local-data: 'aolbrand.test. 300 IN MX 10 mx-aol.mail.gm0.yahoodns.net.'
    local-data: 'selfhosted.test. 300 IN MX 10 mail.selfhosted.test.'
    # DNSBLs (RFC 5782 test points and one "query refused" answer).
    local-data: '2.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2'
    local-data: '10.2.0.192.zen.spamhaus.org. 300 IN A 127.0.0.2'
    local-data: '10.2.0.192.zen.spamhaus.org. 300 IN A 127.0.0.4'
    local-data: '11.2.0.192.zen.spamhaus.org. 300 IN A 127.255.255.254'
    local-data: 'bad.test.dbl.spamhaus.org. 300 IN A 127.0.1.2'
    # Spamhaus DBL's documented test entry (the zone lists 127.0.0.2 for ZEN above).
    local-data: 'dbltest.com.dbl.spamhaus.org. 300 IN A 127.0.1.2'

    # DMARC records with a bad p= (RFC 7489 6.6.3): with and without a rua= address.
    local-data: '_dmarc.bogus.test. 300 IN TXT "v=DMARC1; p=bogus; rua=mailto:d@bogus.test"'
    local-data: '_dmarc.norua.test. 300 IN TXT "v=DMARC1; p=bogus"'
    local-data: '_dmarc.badsp.test. 300 IN TXT "v=DMARC1; p=reject; sp=maybe"'
    local-data: '_dmarc.pct250.test. 300 IN TXT "v=DMARC1; p=quarantine; pct=250"'
    local-data: '_dmarc.pctneg.test. 300 IN TXT "v=DMARC1; p=quarantine; pct=-5"'
    local-data: '_dmarc.pctsign.test. 300 IN TXT "v=DMARC1; p=quarantine; pct=30%"'
    local-data: '_dmarc.pct0.test. 300 IN TXT "v=DMARC1; p=quarantine; pct=0"'
    # DKIM keys that are not what they claim: not base64, base64 of text, a 512-bit RSA key.
    local-data: 'bad._domainkey.good.test. 300 IN TXT "v=DKIM1; k=rsa; p=this-is-not*base64!"'
    local-data: 'junk._domainkey.good.test. 300 IN TXT "v=DKIM1; k=rsa; p=aGVsbG8gd29ybGQh"'
    local-data: 'short._domainkey.good.test. 300 IN TXT "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANaAcC/hecwY+SFYRsf1N8jodpyYfAYv0OcLS5303wswhyWkf4eS4zeoBhCfOjrpSOlFh/F8ag3C6rE+QbNfXPsCAwEAAQ=="'
    local-data: 'edbad._domainkey.good.test. 300 IN TXT "v=DKIM1; k=ed25519; p=aGVsbG8gd29ybGQh"'

stub-zone:
    name: "dead.test."
    stub-addr: 127.0.0.1@%BLACKHOLE%
)conf";

testdns::DnsServer& server()
{
    static testdns::DnsServer s;
    return s;
}

/// A resolver that answers NXDOMAIN to every name: what a resolver that cannot (or will not)
/// reach the blocklists looks like from here. Its blocklist answers must never read "not listed".
testdns::DnsServer& nxServer()
{
    static testdns::DnsServer s;
    return s;
}

class DnsEnvironment : public ::testing::Environment
{
public:
    void SetUp() override
    {
        server().start(kZone);
        nxServer().start("    local-zone: \".\" static\n");
    }
    void TearDown() override
    {
        server().stop();
        nxServer().stop();
    }
};

[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new DnsEnvironment);

class Dns : public ::testing::Test
{
protected:
    void SetUp() override
    {
        // A missing or broken server is a failure, never a skip.
        if (!server().error.empty())
            FAIL() << server().error;
    }

    static bt::dns::Options resolverOptions(int timeoutMs = 1500)
    {
        bt::dns::Options o;
        o.server = server().address();
        o.timeoutMs = timeoutMs;
        return o;
    }

    static bt::spf::Evaluation spf(const std::string& ip, const std::string& domain, const std::string& sender = {})
    {
        bt::dns::Resolver r(resolverOptions());
        return bt::spf::checkHost(r, ip, domain, sender);
    }

    static bt::CheckOptions options()
    {
        bt::CheckOptions o;
        o.dnsServer = server().address();
        o.timeoutMs = 1500;
        o.deadlineMs = 10000;
        return o;
    }
};

std::string word(bt::spf::Result r)
{
    return bt::spf::resultName(r);
}

} // namespace

TEST_F(Dns, ServerRunsAsTheCurrentUserOnAHighPort)
{
    EXPECT_EQ(server().uid(), long(::getuid()));
    EXPECT_GT(server().port, 1024);
}

TEST_F(Dns, ProvidersOfUnknownDomainsAreLookedUpByMxAndCachedForTheirTtl)
{
    testsupport::TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto import = ws.beginImport("fixture", 0, "", "postfix_log");
    int n = 0;
    const auto add = [&](const std::string& domain, const std::string& provider, int count) {
        for (int i = 0; i < count; ++i) {
            bt::Event e;
            e.recipient = domain;
            e.recipient.insert(0, "u" + std::to_string(n) + "@");
            e.recipientDomain = domain;
            e.provider = provider;
            e.timestamp = "2026-03-01T10:00:00Z";
            e.replyText = "550 5.1.1 unknown";
            e.dedupKey = std::to_string(n++);
            ASSERT_EQ(ws.addEvent(import, e), bt::Workspace::Added::Imported);
        }
    };
    add("tenant.test", "", 3);
    add("GTenant.test", "", 2); // domains compare in any case
    add("aolbrand.test", "", 2);
    add("selfhosted.test", "", 1);
    add("gone.test", "", 1); // NXDOMAIN
    add("gmail.com", "Gmail", 4); // known already: not asked
    add("not a domain", "", 1); // never sent to DNS
    const auto kb = bt::KnowledgeBase::loadDefault();

    bt::dns::Options options;
    options.server = server().address();
    const auto r = bt::lookUpProviders(ws, *kb, options);
    EXPECT_EQ(r.server, server().address());
    std::map<std::string, bt::ProviderLookup::Domain> by;
    for (const auto& d : r.domains)
        by[d.domain] = d;
    ASSERT_EQ(by.size(), 5u) << "gmail.com has a provider; 'not a domain' is no name";
    EXPECT_EQ(r.domains.front().domain, "tenant.test") << "most events first";
    EXPECT_EQ(by["tenant.test"].provider, "Microsoft 365 / Outlook.com");
    EXPECT_EQ(by["tenant.test"].events, 3);
    EXPECT_EQ(by["gtenant.test"].provider, "Gmail");
    EXPECT_EQ(by["gtenant.test"].mx, "aspmx.l.google.com");
    EXPECT_EQ(by["aolbrand.test"].provider, "Yahoo");
    EXPECT_EQ(by["selfhosted.test"].provider, "");
    EXPECT_EQ(by["selfhosted.test"].status, "ok");
    EXPECT_EQ(by["gone.test"].status, "nxdomain");
    EXPECT_FALSE(by["tenant.test"].cached);
    EXPECT_EQ(r.events, 7);
    EXPECT_EQ(testsupport::scalar(ws, "SELECT COUNT(*) FROM events WHERE provider = 'Gmail'"), 6);
    EXPECT_EQ(testsupport::scalar(ws, "SELECT COUNT(*) FROM events WHERE provider = 'Yahoo'"), 2);
    // Kept in the workspace with the time they expire: the TTL of the records.
    EXPECT_EQ(testsupport::scalar(ws,
                                  "SELECT expires_at - checked_at FROM dns_cache WHERE name = 'gtenant.test' "
                                  "AND type = 'MX'"),
              120);

    // Asked again (a new import brought the domain back without a provider): from the cache.
    ws.db().exec("UPDATE events SET provider = NULL WHERE recipient_domain = 'tenant.test'");
    const auto again = bt::lookUpProviders(ws, *kb, options);
    bool seen = false;
    for (const auto& d : again.domains)
        if (d.domain == "tenant.test") {
            seen = true;
            EXPECT_TRUE(d.cached);
            EXPECT_EQ(d.provider, "Microsoft 365 / Outlook.com");
        }
    EXPECT_TRUE(seen);

    // A server that never answers: timeouts in the result, within the deadline, nothing changed.
    ws.db().exec("UPDATE events SET provider = NULL WHERE recipient_domain = 'tenant.test'; DELETE FROM dns_cache");
    options.server = server().blackhole();
    options.timeoutMs = 300;
    const auto silent = bt::lookUpProviders(ws, *kb, options);
    ASSERT_FALSE(silent.domains.empty());
    for (const auto& d : silent.domains)
        EXPECT_EQ(d.status, "timeout") << d.domain;
    EXPECT_EQ(silent.events, 0);
}

TEST_F(Dns, ResolverStatuses)
{
    bt::dns::Resolver r(resolverOptions());
    EXPECT_EQ(r.query("good.test", bt::dns::Type::TXT).records.size(), 2u);
    EXPECT_EQ(r.query("good.test", bt::dns::Type::AAAA).status, bt::dns::Status::None);
    EXPECT_EQ(r.query("nosuch.good.test", bt::dns::Type::A).status, bt::dns::Status::NxDomain);
    const auto refused = r.query("example.com", bt::dns::Type::A);
    EXPECT_EQ(refused.status, bt::dns::Status::Error);
    EXPECT_NE(refused.detail.find("refused"), std::string::npos) << refused.detail;
    // A record over 512 bytes: the UDP answer is truncated and c-ares asks again over TCP.
    const auto big = r.query("big.test", bt::dns::Type::TXT);
    ASSERT_EQ(big.status, bt::dns::Status::Ok);
    EXPECT_GT(big.records.at(0).value.size(), 600u);
    EXPECT_TRUE(big.detail.empty()) << big.detail;
}

TEST_F(Dns, NeverAnsweringServerIsATimeout)
{
    bt::dns::Resolver r(resolverOptions(600));
    const auto t0 = std::chrono::steady_clock::now();
    const auto a = r.query("x.dead.test", bt::dns::Type::TXT);
    const auto took = std::chrono::steady_clock::now() - t0;
    std::cout << "x.dead.test TXT through unbound: " << bt::dns::statusName(a.status) << " after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    // unbound itself waits longer than we do: the client's deadline ends the question.
    EXPECT_TRUE(a.status == bt::dns::Status::Timeout || a.status == bt::dns::Status::ServFail)
        << bt::dns::statusName(a.status);
    EXPECT_LT(took, 2s);

    bt::dns::Options o;
    o.server = server().blackhole();
    o.timeoutMs = 400;
    bt::dns::Resolver direct(o);
    EXPECT_EQ(direct.query("good.test", bt::dns::Type::TXT).status, bt::dns::Status::Timeout);
}

TEST_F(Dns, SpfMechanisms)
{
    auto e = spf("198.51.100.7", "good.test");
    EXPECT_EQ(word(e.result), "pass") << e.reason;
    EXPECT_EQ(e.matched, "a:out.good.test");
    EXPECT_EQ(e.record, "v=spf1 mx a:out.good.test include:_spf.partner.test -all") << "strings concatenated";
    e = spf("192.0.2.20", "good.test");
    EXPECT_EQ(word(e.result), "pass");
    EXPECT_EQ(e.matched, "mx");
    e = spf("2001:db8:1::5", "good.test");
    EXPECT_EQ(word(e.result), "pass") << e.reason;
    EXPECT_EQ(e.matched, "include:_spf.partner.test") << "the deciding term of the domain's own record";
    EXPECT_EQ(e.matchedIn, "good.test");
    // The include's ?all is neutral, which is "no match" for the includer: -all decides.
    e = spf("10.9.9.9", "good.test");
    EXPECT_EQ(word(e.result), "fail");
    EXPECT_EQ(e.matched, "-all");
    EXPECT_EQ(e.lookups, 3);
    EXPECT_EQ(word(spf("198.51.100.200", "upper.test").result), "pass") << "terms are case-insensitive";
    EXPECT_EQ(word(spf("::ffff:198.51.100.7", "good.test").result), "pass") << "IPv4-mapped IPv6";
    // ptr: the PTR name must resolve back to the IP and sit under the domain.
    EXPECT_EQ(word(spf("198.51.100.7", "ptr.test").result), "pass") << "out.good.test → 198.51.100.7";
    EXPECT_EQ(word(spf("198.51.100.9", "ptr.test").result), "fail") << "fake.good.test has no address";
}

TEST_F(Dns, SpfRedirectAndMacros)
{
    auto e = spf("192.0.2.5", "redir.test");
    EXPECT_EQ(word(e.result), "pass") << e.reason;
    EXPECT_EQ(e.lookups, 2) << "redirect and mx";
    EXPECT_EQ(word(spf("10.9.9.9", "redir.test").result), "fail");
    EXPECT_EQ(word(spf("198.51.100.7", "macro.test").result), "pass") << "%{ir}.%{v}";
    EXPECT_EQ(word(spf("10.0.0.1", "macro.test", "alice@macro.test").result), "pass") << "%{l}";
    e = spf("10.0.0.1", "macro.test", "bob@macro.test");
    EXPECT_EQ(word(e.result), "fail");
    EXPECT_EQ(e.voidLookups, 2);
}

TEST_F(Dns, SpfErrorsAreResults)
{
    auto e = spf("10.0.0.1", "loop.test");
    EXPECT_EQ(word(e.result), "permerror");
    EXPECT_NE(e.reason.find("include loop"), std::string::npos) << e.reason;
    e = spf("10.0.0.1", "many.test");
    EXPECT_EQ(word(e.result), "permerror");
    EXPECT_EQ(e.lookups, 11);
    EXPECT_NE(e.reason.find("more than 10"), std::string::npos) << e.reason;
    e = spf("10.0.0.1", "void.test");
    EXPECT_EQ(word(e.result), "permerror");
    EXPECT_NE(e.reason.find("found nothing"), std::string::npos) << e.reason;
    EXPECT_EQ(word(spf("10.0.0.1", "two.test").result), "permerror");
    EXPECT_EQ(word(spf("10.0.0.1", "syntax.test").result), "permerror");
    EXPECT_EQ(word(spf("10.0.0.1", "incnone.test").result), "permerror");
    EXPECT_EQ(word(spf("10.0.0.1", "none.test").result), "none");
    EXPECT_EQ(word(spf("10.0.0.1", "nosuch.test").result), "none");
    EXPECT_EQ(word(spf("198.51.100.7", "big.test").result), "pass") << "record read over TCP";
    const auto t0 = std::chrono::steady_clock::now();
    e = spf("10.0.0.1", "deadinc.test");
    EXPECT_EQ(word(e.result), "temperror") << e.reason;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(Dns, FullCheck)
{
    bt::CheckRequest req {"good.test", "192.0.2.10", {}, {"s1", "ed", "old", "missing"}};
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = bt::runChecks(req, options());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::cout << "full check against the local server: " << ms.count() << " ms, " << r.liveQueries << " questions, "
              << r.blocklists.size() << " blocklists\n";
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_TRUE(r.spf);
    EXPECT_EQ(r.spf->status, "ok");
    EXPECT_EQ(r.spf->result.value_or(""), "pass");
    EXPECT_EQ(r.spf->recordResult, "valid");
    EXPECT_EQ(r.spf->source.server, server().address());
    EXPECT_FALSE(r.spf->source.cached);
    ASSERT_TRUE(r.dmarc);
    EXPECT_EQ(r.dmarc->status, "ok");
    EXPECT_EQ(r.dmarc->policy, "reject");
    EXPECT_EQ(r.dmarc->subdomainPolicy, "quarantine");
    EXPECT_EQ(r.dmarc->pct, 50);
    EXPECT_EQ(r.dmarc->adkim, "s");
    EXPECT_EQ(r.dmarc->rua.size(), 2u);
    EXPECT_EQ(r.dmarc->foundAt, "_dmarc.good.test");
    ASSERT_TRUE(r.mx);
    ASSERT_EQ(r.mx->hosts.size(), 3u);
    EXPECT_EQ(r.mx->hosts[0].host, "mx0.good.test");
    EXPECT_EQ(r.mx->hosts[2].preference, 20);
    ASSERT_TRUE(r.ptr);
    EXPECT_EQ(r.ptr->names, std::vector<std::string> {"mx1.good.test"});
    EXPECT_TRUE(r.ptr->forwardConfirmed);
    ASSERT_EQ(r.dkim.size(), 4u);
    EXPECT_TRUE(r.dkim[0].found);
    EXPECT_EQ(r.dkim[0].keyType, "rsa");
    EXPECT_EQ(r.dkim[0].keyBits, 2048);
    EXPECT_EQ(r.dkim[1].keyType, "ed25519");
    EXPECT_TRUE(r.dkim[2].revoked);
    EXPECT_EQ(r.dkim[3].status, "nxdomain");
    EXPECT_FALSE(r.dkim[3].found);
    bool zen = false;
    for (const auto& b : r.blocklists) {
        if (b.zone == "zen.spamhaus.org") {
            zen = true;
            EXPECT_TRUE(b.listed);
            EXPECT_EQ(b.codes.size(), 2u);
            EXPECT_NE(b.meaning.find("SBL"), std::string::npos) << b.meaning;
            EXPECT_NE(b.meaning.find("XBL"), std::string::npos) << b.meaning;
            EXPECT_EQ(b.sentence.rfind("192.0.2.10 is listed on Spamhaus ZEN (SBL, XBL)", 0), 0u) << b.sentence;
        } else if (b.zone == "dbl.spamhaus.org") {
            EXPECT_EQ(b.status, "nxdomain");
            EXPECT_FALSE(b.listed);
        } else {
            EXPECT_EQ(b.status, "error") << b.zone << ": the test server refuses zones it does not hold";
        }
    }
    EXPECT_TRUE(zen);
    EXPECT_GE(r.blocklists.size(), 20u);
    EXPECT_FALSE(r.deadlineReached);
    EXPECT_LT(ms, 5s);
    const auto j = nlohmann::json::parse(bt::toJson(r));
    EXPECT_EQ(j["spf"]["result"], "pass");
    EXPECT_EQ(j["dmarc"]["found_at"], "_dmarc.good.test");
    EXPECT_EQ(j["ptr"]["forward_confirmed"], true);
    EXPECT_EQ(j["spf"]["source"]["via"], "live");
}

TEST_F(Dns, CheckFindings)
{
    auto o = options();
    o.blocklistZones = {"zen.spamhaus.org", "dbl.spamhaus.org"};
    auto r = bt::runChecks({"sub.org.test", "198.51.100.9", {}, {}}, o);
    ASSERT_TRUE(r.dmarc);
    EXPECT_EQ(r.dmarc->foundAt, "_dmarc.org.test");
    EXPECT_TRUE(r.dmarc->organizational);
    EXPECT_EQ(r.dmarc->policy, "quarantine");
    EXPECT_EQ(r.spf->result.value_or(""), "fail");
    EXPECT_EQ(r.spf->sentence, "SPF: 198.51.100.9 is not permitted by sub.org.test's record (-all)");
    EXPECT_EQ(r.ptr->names, std::vector<std::string> {"fake.good.test"});
    EXPECT_FALSE(r.ptr->forwardConfirmed);
    EXPECT_EQ(r.mx->status, "none");

    r = bt::runChecks({"nullmx.test", "", {}, {}}, o);
    EXPECT_TRUE(r.mx->nullMx);
    EXPECT_EQ(r.dmarc->status, "nxdomain");
    EXPECT_FALSE(r.spf->result);
    EXPECT_EQ(r.spf->recordResult, "none");
    r = bt::runChecks({"none.test", "", {}, {}}, o);
    EXPECT_EQ(r.spf->status, "none") << "TXT records, none of them SPF";

    r = bt::runChecks({"bad.test", "192.0.2.11", {}, {}}, o);
    ASSERT_EQ(r.blocklists.size(), 2u);
    EXPECT_EQ(r.blocklists[0].status, "error") << "127.255.255.254 is a refused query, not a listing";
    EXPECT_FALSE(r.blocklists[0].listed);
    EXPECT_TRUE(r.blocklists[1].listed);
    EXPECT_EQ(r.blocklists[1].kind, "domain");
    EXPECT_NE(r.blocklists[1].meaning.find("spam domain"), std::string::npos);

    r = bt::runChecks({"mail.bad.test", "", {}, {}}, o);
    ASSERT_EQ(r.blocklists.size(), 1u);
    EXPECT_EQ(r.blocklists[0].query, "bad.test.dbl.spamhaus.org")
        << "domain lists are asked for the registrable domain";
    EXPECT_TRUE(r.blocklists[0].listed);
    EXPECT_EQ(r.blocklists[0].sentence.rfind("bad.test is listed on Spamhaus DBL", 0), 0u) << r.blocklists[0].sentence;

    r = bt::runChecks({"many.test", "", {}, {}}, o);
    EXPECT_EQ(r.spf->recordResult, "permerror");
    EXPECT_EQ(r.spf->lookups, 11);
}

TEST_F(Dns, DeadlineAndCancel)
{
    auto o = options();
    o.dnsServer = server().blackhole();
    o.timeoutMs = 5000;
    o.deadlineMs = 400;
    auto t0 = std::chrono::steady_clock::now();
    auto r = bt::runChecks({"good.test", "192.0.2.10", {}, {"s1"}}, o);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_TRUE(r.deadlineReached);
    EXPECT_EQ(r.mx->status, "timeout");
    EXPECT_EQ(r.spf->result.value_or(""), "temperror");
    for (const auto& b : r.blocklists)
        EXPECT_EQ(b.status, "timeout");

    std::atomic<bool> cancel {false};
    o.deadlineMs = 20000;
    o.cancel = &cancel;
    std::thread stopper([&] {
        std::this_thread::sleep_for(150ms);
        cancel = true;
    });
    t0 = std::chrono::steady_clock::now();
    r = bt::runChecks({"good.test", "192.0.2.10", {}, {}}, o);
    stopper.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_TRUE(r.cancelled);
}

TEST_F(Dns, WorkspaceCache)
{
    testsupport::TempWorkspace tmp;
    bt::Workspace ws(tmp.path.string());
    auto o = options();
    o.workspace = &ws;
    o.blocklistZones = {"zen.spamhaus.org"};
    const bt::CheckRequest req {"good.test", "192.0.2.10", {}, {"s1"}};
    const auto first = bt::runChecks(req, o);
    EXPECT_GT(first.liveQueries, 5);
    EXPECT_GT(bt::cachedAnswerCount(ws), 5);
    const auto second = bt::runChecks(req, o);
    EXPECT_EQ(second.liveQueries, 0);
    EXPECT_TRUE(second.spf->source.cached);
    EXPECT_TRUE(second.mx->source.cached);
    EXPECT_EQ(second.spf->result.value_or(""), "pass");
    EXPECT_EQ(second.mx->hosts.size(), 3u);
    EXPECT_TRUE(second.blocklists.at(0).listed);
    EXPECT_EQ(nlohmann::json::parse(bt::toJson(second))["mx"]["source"]["via"], "cached");
}

TEST(Alignment, OrganisationalDomainsFromThePublicSuffixList)
{
    EXPECT_EQ(bt::organizationalDomain("mail.example.co.uk"), "example.co.uk");
    EXPECT_EQ(bt::organizationalDomain("a.b.example.com"), "example.com");
    EXPECT_EQ(bt::organizationalDomain("user@news.example.com.au"), "example.com.au");
    EXPECT_EQ(bt::organizationalDomain("co.uk"), "");

    bt::OriginalMessage m;
    m.fromDomain = "mail.example.co.uk";
    m.returnPath = "bounce-123@bounces.example.co.uk";
    m.dkimDomain = "esp.net";
    m.authenticationResults = "mx.google.com; spf=pass (google.com: domain of x designates 1.2.3.4) "
                              "smtp.mailfrom=bounces.example.co.uk; dkim=pass header.i=@esp.net header.s=s1; "
                              "dmarc=pass (p=NONE) header.from=example.co.uk";
    auto a = bt::checkAlignment(m);
    EXPECT_EQ(a.spf.state, "aligned") << a.spf.reason;
    EXPECT_EQ(a.dkim.state, "not_aligned") << a.dkim.reason;
    EXPECT_EQ(a.dmarc.state, "aligned") << a.dmarc.reason;
    EXPECT_EQ(a.spfResult, "pass");
    EXPECT_EQ(a.authServId, "mx.google.com");

    m.returnPath = "b@esp-bounces.net";
    m.authenticationResults.clear();
    m.arcAuthenticationResults = "i=1; mx.microsoft.com 1; spf=fail smtp.mailfrom=esp-bounces.net; dkim=none";
    a = bt::checkAlignment(m);
    EXPECT_EQ(a.spf.state, "not_aligned");
    EXPECT_EQ(a.dmarc.state, "not_aligned") << a.dmarc.reason;
    EXPECT_EQ(a.resultsSource, "ARC-Authentication-Results");
    EXPECT_EQ(a.spfResult, "fail");

    a = bt::checkAlignment(bt::OriginalMessage {});
    EXPECT_EQ(a.dmarc.state, "unknown");
    EXPECT_FALSE(a.dmarc.reason.empty());
}

TEST(Alignment, ChecksOffered)
{
    bt::Diagnosis d;
    d.family = "auth";
    d.reason = "authfailure";
    EXPECT_EQ(bt::checksOffered(d), (std::vector<std::string> {"spf", "dkim", "dmarc", "ptr"}));
    d.family = "reputation";
    d.reason = "blocked";
    EXPECT_EQ(bt::checksOffered(d).front(), "blocklists");
    d.family = "address";
    d.reason = "userunknown";
    EXPECT_TRUE(bt::checksOffered(d).empty());
}

// ---- the real binary against the real server ----

namespace
{

testsupport::CommandRun cli(const std::string& args)
{
    return testsupport::shell(std::string(BT_CLI) + " " + args);
}

} // namespace

TEST_F(Dns, CliCheckJson)
{
    const auto r = cli("check --json --dns-server " + server().address() + " --ip 192.0.2.10 --selector s1 good.test");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["spf"]["status"], "ok");
    EXPECT_EQ(j["spf"]["result"], "pass");
    EXPECT_EQ(j["spf"]["lookups"], 1);
    EXPECT_EQ(j["spf"]["record"], "v=spf1 mx a:out.good.test include:_spf.partner.test -all");
    EXPECT_EQ(j["dmarc"]["status"], "ok");
    EXPECT_EQ(j["dmarc"]["policy"], "reject");
    EXPECT_EQ(j["dmarc"]["found_at"], "_dmarc.good.test");
    EXPECT_EQ(j["mx"]["status"], "ok");
    EXPECT_EQ(j["mx"]["hosts"][0]["host"], "mx0.good.test");
    EXPECT_EQ(j["ptr"]["status"], "ok");
    EXPECT_EQ(j["ptr"]["names"][0], "mx1.good.test");
    EXPECT_EQ(j["ptr"]["forward_confirmed"], true);
    EXPECT_EQ(j["dkim"][0]["key_bits"], 2048);
    bool listed = false;
    for (const auto& b : j["blocklists"]) {
        for (const char* k : {"list", "zone", "listed", "codes", "meaning"})
            EXPECT_TRUE(b.contains(k)) << k;
        if (b["zone"] == "zen.spamhaus.org") {
            listed = b["listed"];
            EXPECT_EQ(b["codes"][0], "127.0.0.2");
        }
    }
    EXPECT_TRUE(listed);
    EXPECT_EQ(j["spf"]["source"]["server"], server().address());

    const auto fail
        = cli("check --json --dns-server " + server().address() + " --no-blocklists --ip 198.51.100.7 loop.test");
    const auto f = nlohmann::json::parse(fail.out);
    EXPECT_EQ(f["spf"]["result"], "permerror");
    EXPECT_EQ(f["ptr"]["forward_confirmed"], true);
}

TEST_F(Dns, CliCheckTextAndFailures)
{
    auto r
        = cli("check --dns-server " + server().address() + " --blocklist zen.spamhaus.org --ip 198.51.100.7 good.test");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("SPF: 198.51.100.7 is permitted by good.test's record (a:out.good.test)"), std::string::npos)
        << r.out;
    r = cli("check --json --timeout-ms 300 --dns-server " + server().blackhole()
            + " --blocklist zen.spamhaus.org 192.0.2.10");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ptr"]["status"], "timeout");
    EXPECT_EQ(j["blocklists"][0]["status"], "timeout");
    EXPECT_TRUE(j["spf"].is_null());
    r = cli("check --dns-server not-an-address example.com");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    // Records quoted in findings are data: their control characters are printed escaped.
    r = cli("check --no-blocklists --dns-server " + server().address() + " esc.test");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\\x1b"), std::string::npos) << r.out;
}

TEST(Alignment, ParseJsonCarriesTheAlignmentObject)
{
    const auto path = std::filesystem::temp_directory_path() / ("bt-align-" + std::to_string(::getpid()) + ".eml");
    std::ofstream(path, std::ios::binary)
        << "From: MAILER-DAEMON@mx.example.net\r\n"
           "To: bounce-1@bounces.shop.example.co.uk\r\n"
           "Subject: Undelivered Mail Returned to Sender\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n"
           "\r\n"
           "--b1\r\n"
           "Content-Type: text/plain\r\n"
           "\r\n"
           "Delivery failed.\r\n"
           "--b1\r\n"
           "Content-Type: message/delivery-status\r\n"
           "\r\n"
           "Reporting-MTA: dns; mx.example.net\r\n"
           "\r\n"
           "Final-Recipient: rfc822; someone@example.net\r\n"
           "Action: failed\r\n"
           "Status: 5.7.26\r\n"
           "Diagnostic-Code: smtp; 550 5.7.26 Unauthenticated email from shop.example.co.uk is not accepted "
           "due to domain's DMARC policy\r\n"
           "\r\n"
           "--b1\r\n"
           "Content-Type: text/rfc822-headers\r\n"
           "\r\n"
           "Return-Path: <bounce-1@bounces.shop.example.co.uk>\r\n"
           "DKIM-Signature: v=1; a=rsa-sha256; d=esp-mailer.net; s=k1; h=from; bh=x; b=y\r\n"
           "From: Shop <news@shop.example.co.uk>\r\n"
           "To: someone@example.net\r\n"
           "Subject: Offers\r\n"
           "\r\n"
           "--b1--\r\n";
    const std::string out = testsupport::shell(std::string(BT_CLI) + " parse --json '" + path.string() + "'").out;
    std::filesystem::remove(path);
    const auto j = nlohmann::json::parse(out.substr(0, out.find('\n')));
    ASSERT_TRUE(j.contains("alignment")) << out;
    const auto& a = j["alignment"];
    EXPECT_EQ(a["from_organizational"], "example.co.uk");
    EXPECT_EQ(a["spf"]["state"], "aligned") << a.dump();
    EXPECT_EQ(a["dkim"]["state"], "not_aligned") << a.dump();
    EXPECT_EQ(a["dmarc"]["state"], "aligned") << a.dump();
}

// ---- issue 13, item 7: answers that say what they can vouch for ----

TEST_F(Dns, AResolverThatListsNothingMakesBlocklistAnswersUntrusted)
{
    if (!nxServer().error.empty())
        FAIL() << nxServer().error;
    auto o = options();
    o.dnsServer = nxServer().address();
    const auto r = bt::runChecks({"", "192.0.2.99", {}, {}}, o);
    ASSERT_GE(r.blocklists.size(), 20u);
    for (const auto& b : r.blocklists) {
        EXPECT_EQ(b.status, "untrusted") << b.zone;
        EXPECT_FALSE(b.listed);
        EXPECT_FALSE(b.testListed);
        EXPECT_NE(b.sentence.find("cannot be trusted"), std::string::npos) << b.sentence;
    }
    std::string all;
    for (const auto& f : r.findings)
        all += f + "\n";
    EXPECT_NE(all.find("the resolver did not list the test entry; blocklist answers cannot be trusted"),
              std::string::npos)
        << all;
    EXPECT_EQ(all.find("Not listed on"), std::string::npos) << all;
    const auto zen = std::find_if(r.blocklists.begin(), r.blocklists.end(),
                                  [](const bt::BlocklistCheck& b) { return b.zone == "zen.spamhaus.org"; });
    ASSERT_NE(zen, r.blocklists.end());
    EXPECT_EQ(zen->testQuery, "2.0.0.127.zen.spamhaus.org");

    // The command line says it too, in words and in JSON.
    auto run = cli("check --dns-server " + nxServer().address() + " 192.0.2.99");
    EXPECT_EQ(run.exitCode, 0) << run.out;
    EXPECT_NE(run.out.find("blocklist answers cannot be trusted"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("Not listed on"), std::string::npos) << run.out;
    run = cli("check --json --dns-server " + nxServer().address() + " --blocklist dbl.spamhaus.org example.org");
    const auto j = nlohmann::json::parse(run.out);
    EXPECT_EQ(j["blocklists"][0]["status"], "untrusted");
    EXPECT_EQ(j["blocklists"][0]["test_query"], "dbltest.com.dbl.spamhaus.org");
    EXPECT_EQ(j["blocklists"][0]["test_listed"], false);
}

TEST_F(Dns, AResolverThatListsTheTestEntrySaysNotListed)
{
    auto o = options();
    o.blocklistZones = {"zen.spamhaus.org", "dbl.spamhaus.org"};
    const auto r = bt::runChecks({"good.test", "192.0.2.99", {}, {}}, o);
    ASSERT_EQ(r.blocklists.size(), 2u);
    for (const auto& b : r.blocklists) {
        EXPECT_EQ(b.status, "nxdomain") << b.zone;
        EXPECT_TRUE(b.testListed) << b.zone << " " << b.testQuery;
        EXPECT_FALSE(b.listed);
    }
    EXPECT_EQ(r.blocklists[0].sentence, "192.0.2.99 is not listed on Spamhaus ZEN");
    EXPECT_EQ(r.blocklists[1].testQuery, "dbltest.com.dbl.spamhaus.org");
    std::string all;
    for (const auto& f : r.findings)
        all += f + "\n";
    EXPECT_NE(all.find("Not listed on 2 blocklists"), std::string::npos) << all;
    EXPECT_EQ(all.find("cannot be trusted"), std::string::npos) << all;
}

TEST_F(Dns, DmarcWithABadPolicyIsNotReportedAsPublished)
{
    auto o = options();
    o.blocklists = false;
    auto r = bt::runChecks({"bogus.test", "", {}, {}}, o);
    ASSERT_TRUE(r.dmarc);
    EXPECT_FALSE(r.dmarc->valid);
    EXPECT_EQ(r.dmarc->policy, "none") << "RFC 7489 6.6.3: a rua= address makes it p=none";
    EXPECT_NE(r.dmarc->problem.find("p=bogus"), std::string::npos) << r.dmarc->problem;
    EXPECT_EQ(r.dmarc->sentence.find("publishes p=bogus"), std::string::npos) << r.dmarc->sentence;
    EXPECT_NE(r.dmarc->sentence.find("invalid"), std::string::npos) << r.dmarc->sentence;
    auto j = nlohmann::json::parse(bt::toJson(r));
    EXPECT_EQ(j["dmarc"]["policy"], "none");
    EXPECT_EQ(j["dmarc"]["valid"], false);

    r = bt::runChecks({"norua.test", "", {}, {}}, o);
    EXPECT_FALSE(r.dmarc->valid);
    EXPECT_TRUE(r.dmarc->policy.empty()) << "no rua=: no DMARC policy is applied at all";
    EXPECT_NE(r.dmarc->sentence.find("no DMARC policy"), std::string::npos) << r.dmarc->sentence;
    EXPECT_TRUE(nlohmann::json::parse(bt::toJson(r))["dmarc"]["policy"].is_null());

    r = bt::runChecks({"badsp.test", "", {}, {}}, o);
    EXPECT_FALSE(r.dmarc->valid);
    EXPECT_NE(r.dmarc->problem.find("sp=maybe"), std::string::npos) << r.dmarc->problem;
    EXPECT_NE(r.dmarc->policy, "reject");
}

TEST_F(Dns, ADmarcPctOutsideZeroToHundredIsReadAsReceiversReadIt)
{
    auto o = options();
    o.blocklists = false;
    // RFC 7489 6.3: pct is a whole number from 0 to 100; a syntax error falls back to 100.
    for (const char* domain : {"pct250.test", "pctneg.test", "pctsign.test"}) {
        const auto r = bt::runChecks({domain, "", {}, {}}, o);
        ASSERT_TRUE(r.dmarc) << domain;
        EXPECT_EQ(r.dmarc->pct, 100) << domain;
        EXPECT_TRUE(r.dmarc->valid) << domain << ": a bad pct= does not void the policy";
        EXPECT_EQ(r.dmarc->policy, "quarantine") << domain;
        EXPECT_NE(r.dmarc->sentence.find("not a whole number from 0 to 100"), std::string::npos)
            << domain << ": " << r.dmarc->sentence;
        EXPECT_EQ(nlohmann::json::parse(bt::toJson(r))["dmarc"]["pct"], 100) << domain;
    }
    const auto r = bt::runChecks({"pct0.test", "", {}, {}}, o);
    ASSERT_TRUE(r.dmarc);
    EXPECT_EQ(r.dmarc->pct, 0) << "0 is a valid pct (a policy published for no message yet)";
    EXPECT_NE(r.dmarc->sentence.find("pct=0"), std::string::npos) << r.dmarc->sentence;
    EXPECT_EQ(r.dmarc->sentence.find("not a whole number"), std::string::npos) << r.dmarc->sentence;
}

TEST_F(Dns, DkimKeysAreDecodedBeforeTheyAreCalledKeys)
{
    auto o = options();
    o.blocklists = false;
    const auto r = bt::runChecks({"good.test", "", {}, {"bad", "junk", "short", "edbad", "s1"}}, o);
    ASSERT_EQ(r.dkim.size(), 5u);
    const auto& bad = r.dkim[0];
    EXPECT_TRUE(bad.found);
    EXPECT_FALSE(bad.keyValid);
    EXPECT_EQ(bad.keyBits, 0);
    EXPECT_NE(bad.problem.find("not valid base64"), std::string::npos) << bad.problem;
    EXPECT_EQ(bad.sentence.find("rsa key"), std::string::npos) << bad.sentence;
    EXPECT_NE(bad.sentence.find("cannot be used"), std::string::npos) << bad.sentence;
    EXPECT_FALSE(r.dkim[1].keyValid);
    EXPECT_NE(r.dkim[1].problem.find("not an RSA public key"), std::string::npos) << r.dkim[1].problem;
    EXPECT_TRUE(r.dkim[2].keyValid);
    EXPECT_EQ(r.dkim[2].keyBits, 512);
    EXPECT_NE(r.dkim[2].sentence.find("512-bit rsa key (too short"), std::string::npos) << r.dkim[2].sentence;
    EXPECT_FALSE(r.dkim[3].keyValid);
    EXPECT_NE(r.dkim[3].problem.find("Ed25519"), std::string::npos) << r.dkim[3].problem;
    EXPECT_TRUE(r.dkim[4].keyValid);
    EXPECT_EQ(r.dkim[4].keyBits, 2048);
    EXPECT_TRUE(r.dkim[4].problem.empty()) << r.dkim[4].problem;
    const auto j = nlohmann::json::parse(bt::toJson(r));
    EXPECT_EQ(j["dkim"][0]["key_valid"], false);
    EXPECT_TRUE(j["dkim"][0]["key_bits"].is_null());
    EXPECT_EQ(j["dkim"][2]["key_bits"], 512);
}

TEST_F(Dns, AQuestionLastsItsTimeoutOnceNotThreeTimes)
{
    // SPF's record check and its evaluation ask the same TXT: a question that timed out is
    // not asked again, so a silent server costs one timeout, not three.
    auto o = options();
    o.dnsServer = server().blackhole();
    o.timeoutMs = 600;
    o.deadlineMs = 20000;
    o.blocklists = false;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = bt::runChecks({"good.test", "192.0.2.10", {}, {}}, o);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.spf->result.value_or(""), "temperror");
    EXPECT_EQ(r.mx->status, "timeout");
    EXPECT_FALSE(r.deadlineReached);
    EXPECT_LT(took, 1100ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST_F(Dns, TheDeadlineIsForTheWholeRunNotPerTarget)
{
    // Two runs sharing one deadline: the second starts past it and asks nothing.
    auto o = options();
    o.dnsServer = server().blackhole();
    o.timeoutMs = 5000;
    o.deadlineMs = 500;
    o.deadline = std::chrono::steady_clock::now() + 500ms;
    o.blocklists = false;
    auto t0 = std::chrono::steady_clock::now();
    const auto first = bt::runChecks({"one.test", "", {}, {}}, o);
    const auto second = bt::runChecks({"two.test", "", {}, {}}, o);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
    EXPECT_TRUE(first.deadlineReached);
    EXPECT_TRUE(second.deadlineReached);
    EXPECT_EQ(second.liveQueries, 0);

    // The command line: eight targets, one deadline (per target it took 8 x 600 ms).
    t0 = std::chrono::steady_clock::now();
    const auto run = cli("check --json --no-blocklists --timeout-ms 5000 --deadline-ms 600 --dns-server "
                         + server().blackhole() + " a.test b.test c.test d.test e.test f.test g.test h.test");
    const auto took = std::chrono::steady_clock::now() - t0;
    const auto j = nlohmann::json::parse(run.out);
    ASSERT_EQ(j.size(), 8u);
    for (const auto& report : j)
        EXPECT_EQ(report["deadline_reached"], true) << report.dump();
    EXPECT_LT(took, 3000ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST_F(Dns, CliLooksUpProvidersAndTheReportGroupsThemThere)
{
    testsupport::TempWorkspace t;
    testsupport::writeBouncesTo(t.path.string(), "tenant.test", 3);
    const std::string ws = " --workspace '" + t.path.string() + "'";
    auto r = cli("report --json" + ws);
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("\"key\":\"(none)\""), std::string::npos) << r.out;

    r = cli("lookup-providers --dns-server " + server().address() + ws);
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("tenant.test: Microsoft 365 / Outlook.com (MX tenant-test.mail.protection.outlook.com), 3 "
                         "events"),
              std::string::npos)
        << r.out;
    r = cli("report --json" + ws);
    EXPECT_NE(r.out.find("\"key\":\"Microsoft 365 / Outlook.com\",\"bounces\":3"), std::string::npos) << r.out;
    // Nothing left to ask: nothing done.
    r = cli("lookup-providers --dns-server " + server().address() + ws);
    EXPECT_EQ(r.exitCode, 1) << r.out;
    EXPECT_NE(r.out.find("0 domains asked"), std::string::npos) << r.out;
}
