// SPDX-License-Identifier: MIT
#pragma once

#include <QStringList>
#include <QWidget>

#include <atomic>
#include <memory>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace bt
{
struct Diagnosis;
}

/// The DNS checks of an auth- or reputation-family bounce, started by the user: SPF (and
/// whether the sending IP is permitted), DMARC, DKIM keys, MX, the IP's PTR and the blocklists.
/// The fields come pre-filled from the bounce and stay editable. The run is off the UI thread
/// with Cancel; the findings are shown as sentences with how they were obtained.
class CheckPanel : public QWidget
{
    Q_OBJECT
public:
    explicit CheckPanel(QWidget* parent = nullptr);
    ~CheckPanel() override;

    /// What to check and which checks fit (bt::checksOffered); hides itself when none do.
    void setTarget(const bt::Diagnosis& diagnosis, const QString& domain, const QString& ip, const QString& sender,
                   const QString& selector);
    /// Answers are cached in this workspace (its dns_cache table) when set.
    void setWorkspacePath(const QString& path);
    /// "HOST[:PORT]"; empty = the system's resolvers. Defaults to the "checks/dnsServer" setting.
    void setDnsServer(const QString& server);
    /// Per question and for the whole run, in milliseconds.
    void setTimeouts(int questionMs, int deadlineMs);

    void start();
    void cancel();
    bool isRunning() const { return m_running; }
    bool isOffered() const { return !m_offered.isEmpty(); }
    QString resultText() const;
    QPushButton* checkButton() const { return m_check; }

    /// The first IPv4 address written in a text (a reply naming the client), else empty.
    static QString firstIpv4(const QString& text);

Q_SIGNALS:
    void finished();

private:
    QStringList m_offered;
    QString m_workspace;
    QString m_sender;
    int m_questionMs = 3000;
    int m_deadlineMs = 20000;
    bool m_running = false;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    QLabel* m_title = nullptr;
    QLineEdit* m_domain = nullptr;
    QLineEdit* m_ip = nullptr;
    QLineEdit* m_selector = nullptr;
    QLineEdit* m_server = nullptr;
    QPushButton* m_check = nullptr;
    QPlainTextEdit* m_results = nullptr;
};
