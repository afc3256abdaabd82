// SPDX-License-Identifier: MIT
#pragma once

#include "workspace.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <array>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

namespace bt
{
class EventCube;
struct EventFilter;
} // namespace bt

class QueryWorker;

/// An open workspace as the UI sees it: read connections on background threads, one per lane,
/// so SQL never runs on the UI thread and a slow chart query never holds up a table page.
/// Results come back to the UI thread through the session (which outlives its workers), and only
/// while the object that asked is still alive. Each view keeps its own generation id and drops
/// results of a superseded request (hotspot's JobTracker).
class WorkspaceSession : public QObject
{
    Q_OBJECT
public:
    /// Table: counts, pages, details. Analysis: chart and group queries over the table.
    /// Count: exports and reports. Cube: chart data from the in-memory cube (no waiting behind
    /// a long Analysis query). Details: the selected event (never queued behind a page).
    enum class Lane { Table, Analysis, Count, Cube, Details };

    /// Opens an existing workspace for viewing (nothing is written to it); throws
    /// bt::OpenError saying why when it cannot.
    explicit WorkspaceSession(const QString& path, QObject* parent = nullptr);
    ~WorkspaceSession() override;

    QString path() const { return m_path; }

    /// Runs `job` on the lane's thread with that thread's connection, then `done(result)` on
    /// the UI thread if `context` still exists. A job that throws reports through `failed`.
    template<class R>
    void run(Lane lane, QObject* context, std::function<R(bt::Workspace&)> job, std::function<void(R)> done)
    {
        QPointer<QObject> guard(context);
        post(lane, [this, guard, job = std::move(job), done = std::move(done)](bt::Workspace& ws) {
            auto result = std::make_shared<R>(job(ws));
            QMetaObject::invokeMethod(
                this,
                [guard, done, result] {
                    if (guard)
                        done(std::move(*result));
                },
                Qt::QueuedConnection);
        });
    }

    /// The cube that answers `filter` if one is built already (any thread); else nullptr.
    std::shared_ptr<const bt::EventCube> cachedCube(const bt::EventFilter& filter) const;
    /// The cube for `filter`, built now with `ws` if needed (call on a lane's thread), or
    /// nullptr when no cube can answer it (times between whole hours): then SQL must.
    std::shared_ptr<const bt::EventCube> cubeFor(bt::Workspace& ws, const bt::EventFilter& filter);
    /// The events changed (an import): cubes are dropped and built again when next asked.
    void invalidateCubes();

Q_SIGNALS:
    void failed(const QString& message);

private:
    void post(Lane lane, std::function<void(bt::Workspace&)> task);

    QString m_path;
    mutable std::mutex m_cubeMutex; ///< guards the two cubes and the epoch
    std::mutex m_buildMutex; ///< one build at a time: a second asker waits and reuses it
    std::shared_ptr<const bt::EventCube> m_cube; ///< every event
    std::shared_ptr<const bt::EventCube> m_textCube; ///< the last full-text search
    quint64 m_epoch = 0;
    std::array<QThread, 5> m_threads;
    std::array<QueryWorker*, 5> m_workers {};
};
