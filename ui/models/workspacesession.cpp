// SPDX-License-Identifier: MIT
#include "workspacesession.h"

#include <QFile>

#include <atomic>
#include <memory>

/// Lives on one lane's thread and owns that thread's SQLite connection.
class QueryWorker : public QObject
{
public:
    QueryWorker(std::string path, WorkspaceSession* session)
        : m_path(std::move(path))
        , m_session(session)
    {
    }

    void execute(const std::function<void(bt::Workspace&)>& task)
    {
        try {
            // Opened on first use, on this thread: a connection must stay with its thread.
            if (!m_ws) {
                // Viewing writes nothing to the file (see bt::Workspace::Mode::View).
                m_ws = std::make_unique<bt::Workspace>(m_path, bt::Workspace::Mode::View);
                // Four readers share the machine: a smaller page cache each (the writer's 128 MB
                // is for imports) keeps the window's memory flat on a million-event workspace.
                m_ws->useSmallCache();
                m_open.store(m_ws.get());
            }
            task(*m_ws);
        } catch (const std::exception& error) {
            const QString message = QString::fromUtf8(error.what());
            QMetaObject::invokeMethod(
                m_session, [s = m_session, message] { Q_EMIT s->failed(message); }, Qt::QueuedConnection);
        }
    }

    /// Makes the statement running on this lane (if any) stop at once; callable from any
    /// thread.
    void interrupt()
    {
        if (bt::Workspace* ws = m_open.load())
            ws->interrupt();
    }

private:
    std::string m_path;
    WorkspaceSession* m_session;
    std::unique_ptr<bt::Workspace> m_ws;
    std::atomic<bt::Workspace*> m_open {nullptr}; ///< set once the connection is open
};

WorkspaceSession::WorkspaceSession(const QString& path, QObject* parent)
    : QObject(parent)
    , m_path(path)
{
    const std::string file = QFile::encodeName(path).toStdString();
    // Open once here, on the caller's thread, so a bad file fails loudly now (an OpenError that
    // says why), not later on five threads.
    {
        bt::Workspace check(file, bt::Workspace::Mode::View);
    }
    for (std::size_t i = 0; i < m_threads.size(); ++i) {
        m_workers[i] = new QueryWorker(file, this);
        m_workers[i]->moveToThread(&m_threads[i]);
        connect(&m_threads[i], &QThread::finished, m_workers[i], &QObject::deleteLater);
        m_threads[i].setObjectName(QStringLiteral("workspace-lane-%1").arg(i));
        m_threads[i].start();
    }
}

WorkspaceSession::~WorkspaceSession()
{
    // Closing or switching workspaces must not wait for a long query (a cube over millions of
    // events): stop the running statements, then the threads. Interrupt first: a worker is
    // deleted once its thread has finished, and its connection with it.
    for (QueryWorker* w : m_workers)
        w->interrupt();
    for (auto& t : m_threads) {
        t.quit();
        t.wait();
    }
}

void WorkspaceSession::post(Lane lane, std::function<void(bt::Workspace&)> task)
{
    QueryWorker* worker = m_workers[static_cast<std::size_t>(lane)];
    QMetaObject::invokeMethod(
        worker, [worker, task = std::move(task)] { worker->execute(task); }, Qt::QueuedConnection);
}
