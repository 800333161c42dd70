// A timestamp in the viewer's zone; the full date, time and zone on hover and for machines.
import { formatDateTime, formatStamp, formatTime } from "@/lib/format";

type Style = "full" | "stamp" | "time";

const FORMATS: Record<Style, (value: string) => string> = {
  full: formatDateTime,
  stamp: (value) => formatStamp(value),
  time: (value) => formatTime(value),
};

export function Time({
  value,
  format = "full",
  className,
}: {
  value: string | null | undefined;
  format?: Style;
  className?: string;
}) {
  if (!value) return <span className={className}>–</span>;
  return (
    <time dateTime={value} title={formatDateTime(value)} className={className}>
      {FORMATS[format](value)}
    </time>
  );
}
