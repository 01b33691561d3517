// ResultChart draws the results with Chart.js, registering only the pieces it uses so that
// the bundle carries no more of Chart.js than a line and a bar chart need.

import { useEffect, useRef } from 'react';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { ChartData } from '../playground';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

const palette = ['#2563eb', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#4b5563'];

export default function ResultChart({ data }: { data: ChartData }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const chart = new Chart(canvas.current!, {
      type: data.kind,
      data: {
        labels: data.labels,
        datasets: data.datasets.map((d, i) => ({
          label: d.label,
          data: d.data,
          backgroundColor: palette[i % palette.length] + (data.kind === 'bar' ? 'cc' : '33'),
          borderColor: palette[i % palette.length],
          borderWidth: data.kind === 'line' ? 2 : 1,
          pointRadius: data.labels.length > 60 ? 0 : 3,
          spanGaps: true,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: data.datasets.length > 1 || data.kind === 'line' } },
        scales: { y: { beginAtZero: true } },
      },
    });
    return () => chart.destroy();
  }, [data]);
  const summary = `${data.kind === 'line' ? 'Line' : 'Bar'} chart of ${data.datasets.map((d) => d.label).join(', ')} over ${data.labels.length} ${data.kind === 'line' ? 'points' : 'bars'}`;
  return (
    <div className="chart">
      <canvas ref={canvas} role="img" aria-label={summary} data-kind={data.kind} />
    </div>
  );
}
