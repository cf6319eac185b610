import Link from "next/link";

export default function Forbidden() {
  return (
    <main className="stack">
      <h1>403: admins only</h1>
      <p className="muted">Your account can't open this page. Ask an admin for access.</p>
      <Link href="/">Back home</Link>
    </main>
  );
}
