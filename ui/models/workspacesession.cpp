// SPDX-License-Identifier: MIT
#include "workspacesession.h"

#include "cube.h"

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
                m_handle.store(m_ws->db().handle());
                // Four readers share the machine: a smaller page cache each (the writer's 128 MB
                // is for imports) keeps the window's memory flat on a million-event workspace.
                m_ws->db().exec("PRAGMA cache_size=-16384");
                // Sorts of a big ORDER BY spill to a temporary file instead of growing the heap.
                m_ws->db().exec("PRAGMA temp_store=FILE");
            }
            task(*m_ws);
        } catch (const std::exception& error) {
            const QString message = QString::fromUtf8(error.what());
            QMetaObject::invokeMethod(
                m_session, [s = m_session, message] { Q_EMIT s->failed(message); }, Qt::QueuedConnection);
        }
    }

    /// Makes the statement running on this lane (if any) stop at once; callable from any
    /// thread (sqlite3_interrupt is made for that).
    void interrupt() { bt::sql::interrupt(m_handle.load()); }

private:
    std::string m_path;
    WorkspaceSession* m_session;
    std::unique_ptr<bt::Workspace> m_ws;
    std::atomic<sqlite3*> m_handle {nullptr};
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

std::shared_ptr<const bt::EventCube> WorkspaceSession::cachedCube(const bt::EventFilter& filter) const
{
    const std::lock_guard lock(m_cubeMutex);
    for (const auto& c : {m_cube, m_textCube})
        if (c && c->answers(filter))
            return c;
    return nullptr;
}

std::shared_ptr<const bt::EventCube> WorkspaceSession::cubeFor(bt::Workspace& ws, const bt::EventFilter& filter)
{
    if (auto c = cachedCube(filter))
        return c;
    const std::lock_guard build(m_buildMutex);
    if (auto c = cachedCube(filter)) // built by another lane while this one waited
        return c;
    quint64 epoch = 0;
    {
        const std::lock_guard lock(m_cubeMutex);
        epoch = m_epoch;
    }
    // The plain cube comes from the workspace's cache when it is still valid (and is saved
    // there when built); a text search's cube is for this session only.
    auto cube = std::make_shared<const bt::EventCube>(filter.text.empty() ? bt::EventCube::buildCached(ws)
                                                                          : bt::EventCube::build(ws, filter.text));
    if (!cube->answers(filter))
        return nullptr; // sub-hour time bounds: SQL answers those
    const std::lock_guard lock(m_cubeMutex);
    if (epoch == m_epoch) {
        if (filter.text.empty())
            m_cube = cube;
        else
            m_textCube = cube;
    }
    return cube;
}

void WorkspaceSession::invalidateCubes()
{
    const std::lock_guard lock(m_cubeMutex);
    ++m_epoch;
    m_cube.reset();
    m_textCube.reset();
}
