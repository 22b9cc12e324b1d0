from whatsapp_emulator.cli import main

raise SystemExit(main())
