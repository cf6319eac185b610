"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/admin/experiments", label: "Experiments", exact: true },
  { href: "/admin/experiments/new", label: "New experiment", exact: true },
  { href: "/admin/experiments/subjects", label: "Subject lookup", exact: false },
  { href: "/admin/experiments/flags", label: "Convert a flag", exact: false },
  { href: "/admin/experiments/delivery", label: "Event delivery", exact: false },
];

/** The console's navigation; the current page is marked for screen readers and by style. */
export function AdminNav() {
  const pathname = usePathname();
  return (
    <>
      {LINKS.map((link) => {
        const current = link.exact ? pathname === link.href : pathname.startsWith(link.href);
        return (
          <Link key={link.href} href={link.href} aria-current={current ? "page" : undefined}>
            {link.label}
          </Link>
        );
      })}
    </>
  );
}
