// Modal: a dialog that keeps the focus inside it (Tab and Shift+Tab cycle), closes on Escape
// and gives the focus back to what had it before (the button that opened it).

import { useEffect, useId, useRef, type ReactNode } from 'react';

const focusable =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function focusableIn(el: HTMLElement): HTMLElement[] {
  return [...el.querySelectorAll<HTMLElement>(focusable)].filter((e) => e.offsetParent !== null || e === document.activeElement);
}

export interface ModalProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** 'drawer' slides in from the right; 'dialog' is centred. */
  variant?: 'drawer' | 'dialog';
  role?: 'dialog' | 'alertdialog';
  /** The accessible name when it differs from the visible title. */
  label?: string;
  describedBy?: string;
  className?: string;
}

export function Modal({ title, onClose, children, variant = 'dialog', role = 'dialog', label, describedBy, className }: ModalProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const el = ref.current!;
    const first = el.querySelector<HTMLElement>('[data-autofocus]') ?? focusableIn(el)[0] ?? el;
    first.focus();
    return () => {
      // The opener may have re-rendered; focus it if it is still in the page.
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);

  const onKeyDown = (e: React.KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      e.preventDefault();
      close.current();
      return;
    }
    if (e.key !== 'Tab') return;
    const items = focusableIn(ref.current!);
    if (items.length === 0) {
      e.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (e.shiftKey && (active === first || !ref.current!.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !ref.current!.contains(active))) {
      e.preventDefault();
      first.focus();
    }
    e.stopPropagation();
  };

  return (
    <div
      className={`backdrop backdrop--${variant}`}
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) close.current();
      }}
    >
      <div
        ref={ref}
        role={role}
        aria-modal="true"
        aria-label={label}
        aria-labelledby={label ? undefined : titleId}
        aria-describedby={describedBy}
        tabIndex={-1}
        className={`modal modal--${variant} ${className ?? ''}`}
        onKeyDown={onKeyDown}
      >
        <div className="modal__head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label={`Close ${label ?? title}`} onClick={() => close.current()}>
            ×
          </button>
        </div>
        <div className="modal__body">{children}</div>
      </div>
    </div>
  );
}

export interface ConfirmProps {
  title: string;
  message: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
}

/** Confirm asks before an action that cannot be undone: buttons "Confirm" and "Cancel". */
export function Confirm({ title, message, onConfirm, onCancel }: ConfirmProps) {
  const id = useId();
  return (
    <Modal title={title} onClose={onCancel} role="alertdialog" describedBy={id} className="confirm">
      <p id={id}>{message}</p>
      <div className="buttons">
        <button type="button" onClick={onCancel} data-autofocus>
          Cancel
        </button>
        <button type="button" className="primary" onClick={onConfirm}>
          Confirm
        </button>
      </div>
    </Modal>
  );
}
