// SPDX-License-Identifier: MIT
// The DNS check panel: which bounces offer it, the IP it reads from a reply, and a real run
// against a DNS "server" that never answers (a UDP socket nobody reads), which must end in time
// with every check saying so, never hang; and one against a real resolver (unbound) that
// answers NXDOMAIN to every name, whose blocklist answers the panel must not call "not listed".
#include "../core/dnsserver.h"
#include "../core/testsupport.h"
#include "classifier.h"
#include "knowledge.h"
#include "mainwindow.h"
#include "models/grouptablemodel.h"
#include "utils/uiresources.h"
#include "views/diagnoseview.h"
#include "views/groupsview.h"
#include "widgets/checkpanel.h"
#include "workspace.h"

#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace
{

const bt::Classifier& classifier()
{
    static const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    return c;
}

TEST(CheckPanelTest, ReadsTheClientIpFromAReply)
{
    EXPECT_EQ(CheckPanel::firstIpv4(u"554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org"_s),
              u"192.0.2.1"_s);
    EXPECT_EQ(CheckPanel::firstIpv4(u"status 5.7.1; see 1.2.3.4.5 and then 10.0.0.256 and 198.51.100.7."_s),
              u"198.51.100.7"_s);
    EXPECT_TRUE(CheckPanel::firstIpv4(u"550 5.1.1 User unknown"_s).isEmpty());
}

TEST(CheckPanelTest, OfferedForAuthAndReputationOnly)
{
    CheckPanel panel;
    panel.setTarget(classifier().diagnoseText("550 5.7.26 Unauthenticated email from example.com is not accepted due "
                                              "to domain's DMARC policy"),
                    u"example.com"_s, QString(), QString(), QString());
    EXPECT_TRUE(panel.isOffered());
    panel.setTarget(classifier().diagnoseText("550 5.1.1 <a@example.org>: Recipient address rejected: User unknown"),
                    u"example.com"_s, QString(), QString(), QString());
    EXPECT_FALSE(panel.isOffered());
}

TEST(CheckPanelTest, ASilentServerEndsInTimeWithTimeouts)
{
    // A bound UDP socket that is never read: questions go out and nothing comes back.
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const QString server = u"127.0.0.1:%1"_s.arg(ntohs(addr.sin_port));

    CheckPanel panel;
    panel.setTarget(classifier().diagnoseText("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                                              "zen.spamhaus.org"),
                    u"example.com"_s, u"192.0.2.1"_s, QString(), QString());
    ASSERT_TRUE(panel.isOffered());
    panel.setDnsServer(server);
    panel.setTimeouts(300, 1500);
    QSignalSpy finished(&panel, &CheckPanel::finished);
    QTest::mouseClick(panel.checkButton(), Qt::LeftButton);
    EXPECT_TRUE(panel.isRunning());
    ASSERT_TRUE(finished.wait(10000)) << "the checks did not end by their deadline";
    ::close(fd);
    EXPECT_FALSE(panel.isRunning());
    const QString text = panel.resultText();
    EXPECT_TRUE(text.contains(u"Asked "_s + server)) << qPrintable(text);
    EXPECT_TRUE(text.contains(u"timeout"_s, Qt::CaseInsensitive) || text.contains(u"deadline"_s)) << qPrintable(text);
    EXPECT_FALSE(text.contains(u"is listed"_s)) << "silence is not a listing: " << qPrintable(text);
}

TEST(CheckPanelTest, DiagnoseViewShowsAlignmentAndOffersChecksForTheSample)
{
    // The bundled sample: Gmail's 5.7.26 with a returned message (From, Return-Path).
    DiagnoseView view(std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault()));
    QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
    ASSERT_TRUE(view.loadFile(btui::sampleBouncePath()));
    ASSERT_TRUE(spy.wait(5000));
    auto* original = view.findChild<QLabel*>(u"originalMessage"_s);
    ASSERT_NE(original, nullptr);
    EXPECT_TRUE(original->text().contains(u"SPF alignment: aligned"_s)) << qPrintable(original->text());
    EXPECT_TRUE(original->text().contains(u"DKIM alignment: unknown"_s)) << qPrintable(original->text());
    ASSERT_NE(view.checks(), nullptr);
    EXPECT_TRUE(view.checks()->isOffered());
    EXPECT_EQ(view.checks()->findChild<QLineEdit*>(u"checkIp"_s)->text(), u"192.0.2.22"_s)
        << "the IP the reply names for SPF";
}

TEST(CheckPanelTest, AResolverThatListsNothingIsNotTrustedForBlocklists)
{
    testdns::DnsServer nx;
    nx.start("    local-zone: \".\" static\n");
    ASSERT_TRUE(nx.error.empty()) << nx.error;
    CheckPanel panel;
    panel.setTarget(classifier().diagnoseText("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                                              "zen.spamhaus.org"),
                    u"example.com"_s, u"192.0.2.1"_s, QString(), QString());
    ASSERT_TRUE(panel.isOffered());
    panel.setDnsServer(QString::fromStdString(nx.address()));
    panel.setTimeouts(1500, 10000);
    QSignalSpy finished(&panel, &CheckPanel::finished);
    QTest::mouseClick(panel.checkButton(), Qt::LeftButton);
    ASSERT_TRUE(finished.wait(15000)) << "the checks did not end by their deadline";
    nx.stop();
    const QString text = panel.resultText();
    EXPECT_TRUE(text.contains(u"blocklist answers cannot be trusted"_s)) << qPrintable(text);
    EXPECT_FALSE(text.contains(u"Not listed on"_s)) << qPrintable(text);
    EXPECT_FALSE(text.contains(u"is listed"_s)) << qPrintable(text);
}

TEST(CheckPanelTest, TheWindowLooksUpUnknownProvidersByMxAndTheGroupsFollow)
{
    testdns::DnsServer dns;
    dns.start("    local-zone: \"test.\" static\n"
              "    local-data: 'tenant.test. 300 IN MX 0 tenant-test.mail.protection.outlook.com.'\n");
    ASSERT_TRUE(dns.error.empty()) << dns.error;
    QTemporaryDir dir;
    const QString path = dir.filePath(u"tenant.btw"_s);
    testsupport::writeBouncesTo(QFile::encodeName(path).toStdString(), "tenant.test", 3);
    MainWindow window(std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault()));
    GroupsView* groups = window.groupsView();
    QSignalSpy updated(groups, &GroupsView::groupsUpdated);
    ASSERT_TRUE(window.openWorkspace(path, false));
    ASSERT_TRUE(updated.wait(15000));
    ASSERT_EQ(groups->model()->rowCount(), 1);
    EXPECT_EQ(groups->model()->index(0, 0).data(GroupTableModel::KeyRole).toString(), u"(none)"_s);

    QSignalSpy looked(&window, &MainWindow::providersLookedUp);
    updated.clear();
    window.lookUpProviders(QString::fromStdString(dns.address()));
    ASSERT_TRUE(looked.wait(15000));
    EXPECT_EQ(looked.constFirst().at(0).toInt(), 1);
    EXPECT_EQ(looked.constFirst().at(1).toLongLong(), 3);
    EXPECT_TRUE(looked.constFirst().at(2).toString().isEmpty());
    if (updated.isEmpty()) {
        ASSERT_TRUE(updated.wait(15000));
    }
    ASSERT_EQ(groups->model()->rowCount(), 1);
    EXPECT_EQ(groups->model()->index(0, 0).data(GroupTableModel::KeyRole).toString(), u"Microsoft 365 / Outlook.com"_s);
    dns.stop();
}

} // namespace
