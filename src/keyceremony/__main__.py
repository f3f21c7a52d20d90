from keyceremony.cli import main

raise SystemExit(main())
