// A user's name as a link to their profile.
import { Link } from "react-router";

export function userPath(login: string): string {
  return `/user/${encodeURIComponent(login)}`;
}

export function UserLink({
  login,
  displayName,
  color,
  className = "",
}: {
  login: string | null;
  displayName?: string | null;
  color?: string | null;
  className?: string;
}) {
  if (!login) return <span className={`muted ${className}`}>unknown</span>;
  const name = displayName && displayName.toLowerCase() === login ? displayName : login;
  return (
    <Link
      to={userPath(login)}
      className={`font-semibold underline-offset-2 hover:underline ${className}`}
      style={color ? { color: `color-mix(in oklab, ${color} 70%, currentColor)` } : undefined}
      onClick={(event) => event.stopPropagation()}
      onKeyDown={(event) => event.stopPropagation()}
    >
      {name}
    </Link>
  );
}
