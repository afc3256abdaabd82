// SPDX-License-Identifier: MIT
#pragma once

#include <QChartView>

class QBarCategoryAxis;

/// The base of the triage charts: follows the system palette (dark mode too), offers "Save as
/// PNG/SVG" in its context menu, and shows an "empty" note when there is nothing to draw.
class ChartView : public QChartView
{
    Q_OBJECT
public:
    explicit ChartView(QWidget* parent = nullptr);

    /// Writes the chart as PNG or SVG (by the file's suffix); false with `error` set on failure.
    bool exportTo(const QString& path, QString* error = nullptr);
    /// The chart rendered at `size` on white, for the printable report.
    QImage renderImage(const QSize& size);

protected:
    void contextMenuEvent(QContextMenuEvent* event) override;
    void changeEvent(QEvent* event) override;
    /// Colours of axes, labels and background from the palette; call after building series.
    void applyPalette();
    void setEmptyText(const QString& text);
    /// Removes every series and axis (a chart is rebuilt whole on new data).
    void clearChart();
    /// A category axis for bar labels in a smaller font: three charts share a row.
    QBarCategoryAxis* labelAxis(const QStringList& labels) const;
};
